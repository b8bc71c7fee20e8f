// Sends one request to scanline signed by the npm `aws4` package (AWS Signature Version 4),
// and prints {"status": N, "body": "...", "code": "..."} on stdout, one line per send.
//
//   node sign.js METHOD URL KEY_ID SECRET REGION [BODY_FILE] [CONTENT_TYPE]
//
// For the tests that the server refuses what it must, the environment can alter the request
// after aws4 signed it, or sign it differently:
//   SIGN_AMZ_DATE=YYYYMMDDTHHMMSSZ  sign with this x-amz-date instead of now
//   SIGN_TAMPER=body                flip one bit of the body's first byte after signing
//   SIGN_TAMPER=query               append "&tampered=1" to the query after signing
//   SIGN_TAMPER=header              add an x-amz-meta-tampered header after signing
//   SIGN_SEND_TIMES=N               send the same signed request N times, one after another
'use strict';
const aws4 = require('aws4');
const fs = require('fs');
const https = require('https');

const [method, url, keyId, secret, region, bodyFile, contentType] = process.argv.slice(2);
const target = new URL(url);
let body = bodyFile ? fs.readFileSync(bodyFile) : undefined;
const headers = {};
if (contentType) headers['Content-Type'] = contentType;
if (process.env.SIGN_AMZ_DATE) headers['X-Amz-Date'] = process.env.SIGN_AMZ_DATE;
const request = {
  host: target.host,  // host:port, as the client sends it
  hostname: target.hostname,
  port: target.port,
  method,
  path: target.pathname + target.search,
  service: 'scanline',
  region,
  headers,
  body,
  rejectUnauthorized: false,
  agent: false,
};
aws4.sign(request, { accessKeyId: keyId, secretAccessKey: secret });

const tamper = process.env.SIGN_TAMPER || '';
if (tamper === 'body') {
  body = Buffer.from(body);
  body[0] ^= 0x01;
} else if (tamper === 'query') {
  request.path += (request.path.includes('?') ? '&' : '?') + 'tampered=1';
} else if (tamper === 'header') {
  request.headers['X-Amz-Meta-Tampered'] = 'yes';
} else if (tamper !== '') {
  throw new Error('unknown SIGN_TAMPER ' + tamper);
}

function send(times) {
  if (times === 0) return;
  const req = https.request(request, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let code = '';
      try { code = JSON.parse(text).code || ''; } catch (e) { /* not JSON */ }
      process.stdout.write(JSON.stringify({ status: res.statusCode, code, body: text }) + '\n');
      send(times - 1);
    });
  });
  req.on('error', (e) => {
    process.stdout.write(JSON.stringify({ status: 0, code: '', body: String(e) }) + '\n');
  });
  if (body) req.write(body);
  req.end();
}
send(Number(process.env.SIGN_SEND_TIMES || '1'));
