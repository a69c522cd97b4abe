// gRPC calls made by hand with Node's http2 module, for what an SDK never
// sends: bad frames, bad messages, other content types. A call's answer
// is its HTTP status, headers, trailers, the messages of the body
// (deframed) and the gRPC status from wherever it came (Trailers-Only
// answers carry it in the headers).

'use strict';

const http2 = require('node:http2');

function frame(message, flag = 0) {
  const b = Buffer.alloc(5 + message.length);
  b[0] = flag;
  b.writeUInt32BE(message.length, 1);
  message.copy(b, 5);
  return b;
}

function deframe(body) {
  const out = [];
  let pos = 0;
  while (pos + 5 <= body.length) {
    const len = body.readUInt32BE(pos + 1);
    out.push(body.subarray(pos + 5, pos + 5 + len));
    pos += 5 + len;
  }
  return out;
}

// opts: headers (added, or replacing the defaults), body (a Buffer sent
// as is), timeout (ms before the client cancels: the answer then has
// cancelled set), session (an http2 session to reuse)
function call(address, method, opts = {}) {
  return new Promise((resolve, reject) => {
    const session = opts.session || http2.connect(`http://${address}`);
    session.on('error', reject);
    const headers = {
      ':method': 'POST',
      ':path': method.startsWith('/') ? method
        : `/TaskHubSidecarService/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...opts.headers,
    };
    const req = session.request(headers);
    const res = { headers: {}, trailers: {}, body: Buffer.alloc(0) };
    const chunks = [];
    let timer = null;
    const done = () => {
      clearTimeout(timer);
      res.body = Buffer.concat(chunks);
      res.messages = deframe(res.body);
      const src = 'grpc-status' in res.trailers ? res.trailers : res.headers;
      res.grpcStatus = src['grpc-status'] === undefined ? undefined
        : Number(src['grpc-status']);
      res.grpcMessage = src['grpc-message'] === undefined ? undefined
        : decodeURIComponent(src['grpc-message']);
      if (!opts.session) {
        session.close();
      }
      resolve(res);
    };
    req.on('response', (h) => {
      res.headers = h;
      res.status = h[':status'];
    });
    req.on('trailers', (t) => { res.trailers = t; });
    req.on('data', (d) => chunks.push(d));
    req.on('end', done);
    req.on('close', () => {
      if (res.messages === undefined) {
        res.closed = true;
        res.rstCode = req.rstCode;
        done();
      }
    });
    req.on('error', () => {});
    if (opts.timeout) {
      timer = setTimeout(() => {
        res.cancelled = true;
        req.close(http2.constants.NGHTTP2_CANCEL);
      }, opts.timeout);
    }
    req.end(opts.body === undefined ? frame(Buffer.alloc(0)) : opts.body);
  });
}

// A server-streaming call left open: messages as they come (next() waits
// for the one after those taken), ended() for its status, cancel() (a
// stream reset), disconnect() (the connection closed).
// opts: headers, settings (the client's HTTP/2 settings)
function stream(address, method, message, opts = {}) {
  const session = http2.connect(`http://${address}`,
    { settings: opts.settings || {} });
  session.on('error', () => {});
  const req = session.request({
    ':method': 'POST',
    ':path': `/TaskHubSidecarService/${method}`,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...opts.headers,
  });
  const s = { messages: [], taken: 0, trailers: null, headers: null };
  let buf = Buffer.alloc(0);
  let waiter = null;
  const wake = () => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w();
    }
  };
  req.on('response', (h) => { s.headers = h; });
  req.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
      const len = buf.readUInt32BE(1);
      s.messages.push(buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
    wake();
  });
  req.on('trailers', (t) => { s.trailers = t; });
  req.on('error', () => {});
  const closed = new Promise((resolve) => req.on('close', () => {
    session.close();
    wake();
    resolve();
  }));
  s.next = async (ms = 5000) => {
    const until = Date.now() + ms;
    while (s.messages.length <= s.taken) {
      if (req.closed || Date.now() >= until) {
        return null;
      }
      await new Promise((resolve) => {
        waiter = resolve;
        setTimeout(resolve, until - Date.now());
      });
    }
    return s.messages[s.taken++];
  };
  s.ended = async () => {
    await closed;
    const src = s.trailers || s.headers || {};
    return src['grpc-status'] === undefined ? undefined
      : Number(src['grpc-status']);
  };
  s.cancel = () => req.close(http2.constants.NGHTTP2_CANCEL);
  s.disconnect = () => session.destroy();
  req.end(frame(Buffer.from(message)));
  return s;
}

module.exports = { call, frame, deframe, stream };
