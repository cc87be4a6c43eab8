'use strict';
// One Python interpreter (Pyodide) in a Web Worker of the code sandbox: started once with the
// files the page downloaded from our own origin (`init`) and the WebAssembly module the frame
// compiled, then asked to run one test at a time (`job`, JSON text) through the shared harness
// (harness.py). The sandbox has no network: Pyodide's own `fetch` of its lock file and
// standard library is answered from those files, and its WebAssembly from the compiled module.
self.onmessage = async (event) => {
  const data = event.data || {};
  if (data.init) {
    try {
      const files = data.init;
      const module = data.module;
      const served = {
        'pyodide-lock.json': files.lock,
        'python_stdlib.zip': files.stdlib,
        'pyodide.asm.wasm': new ArrayBuffer(0),
      };
      self.fetch = async (url) => {
        const name = String(url).split('/').pop();
        if (!Object.prototype.hasOwnProperty.call(served, name)) {
          throw new TypeError('the code sandbox has no network');
        }
        return new Response(served[name]);
      };
      WebAssembly.instantiateStreaming = async (_source, imports) => ({
        instance: await WebAssembly.instantiate(module, imports),
        module,
      });
      (0, eval)(files.asm + '\n;globalThis._createPyodideModule = _createPyodideModule;');
      // The loader sets `globalThis.loadPyodide` itself.
      (0, eval)(files.loader);
      const pyodide = await loadPyodide({
        indexURL: 'https://pyodide.invalid/',
        stdout: () => {},
        stderr: () => {},
      });
      pyodide.runPython(files.harness);
      self.runTest = pyodide.globals.get('_pw_run');
      postMessage({ ready: true });
    } catch (e) {
      postMessage({ failed: String((e && e.message) || e) });
    }
    return;
  }
  if (typeof data.job === 'string' && self.runTest) {
    const started = performance.now();
    let line;
    try {
      line = JSON.parse(self.runTest(data.job));
    } catch (e) {
      line = { run: { outcome: { status: 'threw', message: String((e && e.message) || e) }, console: '' } };
    }
    line.run.micros = Math.round((performance.now() - started) * 1000);
    postMessage({ run: line.run });
  }
};
