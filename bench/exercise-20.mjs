// Prints the TOML of a 20-test FizzBuzz exercise (the grading benchmark's workload): 12 visible
// and 8 hidden tests over n = 1..20, each comparing a whole array. `python` as the argument:
// the same exercise in Python.
const python = process.argv[2] === 'python';
const fizz = (n) => Array.from({ length: n }, (_, i) => {
  const k = i + 1;
  return k % 15 === 0 ? 'FizzBuzz' : k % 3 === 0 ? 'Fizz' : k % 5 === 0 ? 'Buzz' : k;
});
let toml = python ? `language = "python"
test_time_limit_ms = 2000
total_time_limit_ms = 30000
starter = '''
def fizzbuzz(n):
    pass
'''
solution = '''
def fizzbuzz(n):
    out = []
    for i in range(1, n + 1):
        out.append("FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else i)
    return out
'''
` : `language = "javascript"
test_time_limit_ms = 2000
total_time_limit_ms = 30000
starter = '''
function fizzbuzz(n) {
}
'''
solution = '''
function fizzbuzz(n) {
  const out = [];
  for (let i = 1; i <= n; i++) {
    out.push(i % 15 === 0 ? 'FizzBuzz' : i % 3 === 0 ? 'Fizz' : i % 5 === 0 ? 'Buzz' : i);
  }
  return out;
}
'''
`;
for (let n = 1; n <= 20; n++) {
  toml += `
[[test]]
name = "up to ${n}"
call = "fizzbuzz(${n})"
expected = '${JSON.stringify(fizz(n))}'
hidden = ${n > 12}
`;
}
process.stdout.write(toml);
