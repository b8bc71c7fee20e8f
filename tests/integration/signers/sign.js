// Sends one request to scanline signed by the npm `aws4` package (AWS Signature Version 4),
// and prints {"status": N, "body": "..."} on stdout.
//
//   node sign.js METHOD URL KEY_ID SECRET REGION [BODY_FILE] [CONTENT_TYPE]
'use strict';
const aws4 = require('aws4');
const fs = require('fs');
const https = require('https');

const [method, url, keyId, secret, region, bodyFile, contentType] = process.argv.slice(2);
const target = new URL(url);
const body = bodyFile ? fs.readFileSync(bodyFile) : undefined;
const headers = {};
if (contentType) headers['Content-Type'] = contentType;
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
};
aws4.sign(request, { accessKeyId: keyId, secretAccessKey: secret });
const req = https.request(request, (res) => {
  const chunks = [];
  res.on('data', (c) => chunks.push(c));
  res.on('end', () => {
    process.stdout.write(JSON.stringify({
      status: res.statusCode,
      body: Buffer.concat(chunks).toString('utf8'),
    }) + '\n');
  });
});
req.on('error', (e) => {
  process.stdout.write(JSON.stringify({ status: 0, body: String(e) }) + '\n');
});
if (body) req.write(body);
req.end();
