// The mailbox of the browser tests: an SMTP server on loopback that the app relays its outbox
// to (PAIRWISE_SMTP_URL), standing in for the operator's mail provider, which is not on this
// machine. Tests read what arrived over HTTP, as a person reads their inbox:
//   GET /healthz            200 once both ports listen
//   GET /mail?to=ADDRESS    the messages to ADDRESS, newest first, as JSON [{subject, body}]
// Usage: node mail-sink.mjs SMTP_PORT HTTP_PORT
import { createServer as createTcp } from 'node:net';
import { createServer as createHttp } from 'node:http';

const [smtpPort, httpPort] = process.argv.slice(2).map(Number);
/** @type {{to: string[], subject: string, body: string}[]} */
const inbox = [];

/** Quoted-printable, as lettre writes long lines: soft breaks joined, =XX bytes decoded. */
function unquote(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function parse(to, data) {
  const split = data.search(/\r?\n\r?\n/);
  const head = split < 0 ? data : data.slice(0, split);
  const rawBody = split < 0 ? '' : data.slice(split).replace(/^\r?\n\r?\n/, '');
  const subject = /^Subject: (.*)$/im.exec(head)?.[1]?.trim() ?? '';
  const qp = /^Content-Transfer-Encoding:\s*quoted-printable/im.test(head);
  const b64 = /^Content-Transfer-Encoding:\s*base64/im.test(head);
  const body = qp ? unquote(rawBody) : b64 ? Buffer.from(rawBody, 'base64').toString('utf8') : rawBody;
  inbox.push({ to, subject, body });
}

const smtp = createTcp((socket) => {
  let buffer = '';
  let to = [];
  let data = null;
  socket.write('220 sink ESMTP\r\n');
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let at;
    while ((at = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      if (data !== null) {
        if (line === '.') {
          parse(to, data.join('\r\n'));
          to = [];
          data = null;
          socket.write('250 kept\r\n');
        } else {
          // Dot-stuffing: a line that began with a dot was sent with two.
          data.push(line.startsWith('..') ? line.slice(1) : line);
        }
        continue;
      }
      const verb = line.toUpperCase();
      if (verb.startsWith('EHLO')) socket.write('250-sink\r\n250 8BITMIME\r\n');
      else if (verb.startsWith('RCPT TO:')) {
        to.push(line.slice(8).replace(/[<>\s]/g, '').toLowerCase());
        socket.write('250 ok\r\n');
      } else if (verb === 'DATA') {
        data = [];
        socket.write('354 go on\r\n');
      } else if (verb === 'QUIT') {
        socket.end('221 bye\r\n');
      } else socket.write('250 ok\r\n');
    }
  });
  socket.on('error', () => {});
});

const http = createHttp((req, res) => {
  const url = new URL(req.url ?? '/', 'http://sink');
  if (url.pathname === '/healthz') {
    res.end('ok');
  } else if (url.pathname === '/mail') {
    const address = (url.searchParams.get('to') ?? '').toLowerCase();
    const mail = inbox.filter((m) => m.to.includes(address)).reverse();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(mail.map(({ subject, body }) => ({ subject, body }))));
  } else {
    res.statusCode = 404;
    res.end('not found');
  }
});

smtp.listen(smtpPort, '127.0.0.1', () => http.listen(httpPort, '127.0.0.1'));
