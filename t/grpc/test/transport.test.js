// The transport: what makes a call a gRPC call, the answers' framing and
// statuses, keys and hubs, deadlines; all with Node's http2 module.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const http2 = require('node:http2');
const grpc = require('@grpc/grpc-js');
const { TaskHubGrpcClient, NoOpLogger } = require('@microsoft/durabletask-js');
const nginx = require('../lib/nginx');
const { call, frame } = require('../lib/wire');

const S = { OK: 0, INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8,
            UNIMPLEMENTED: 12, UNAUTHENTICATED: 16 };

test('transport', async (t) => {
  const srv = await nginx.start({ name: 'transport' });
  t.after(() => srv.stop());

  await t.test('Hello answers one empty message and status 0', async () => {
    const res = await call(srv.address, 'Hello');
    assert.strictEqual(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/grpc/);
    assert.strictEqual(res.messages.length, 1);
    assert.strictEqual(res.messages[0].length, 0);
    assert.strictEqual(res.trailers['grpc-status'], '0');
  });

  await t.test('an unknown method is UNIMPLEMENTED, Trailers-Only',
    async () => {
      const res = await call(srv.address, 'NoSuchMethod');
      assert.strictEqual(res.status, 200);
      assert.strictEqual(res.headers['grpc-status'], String(S.UNIMPLEMENTED));
      assert.match(res.grpcMessage, /NoSuchMethod/);
      assert.strictEqual(res.body.length, 0);
    });

  await t.test('another service is UNIMPLEMENTED', async () => {
    const res = await call(srv.address, '/TaskHubSidecarService/');
    assert.strictEqual(res.grpcStatus, S.UNIMPLEMENTED);
  });

  await t.test('a body that is not one frame is INVALID_ARGUMENT',
    async () => {
      const bodies = [
        Buffer.alloc(0),                            // no message
        Buffer.from([0, 0, 0]),                     // a cut prefix
        Buffer.from([0, 0, 0, 0, 9, 1, 2]),         // a cut message
        Buffer.concat([frame(Buffer.alloc(0)), frame(Buffer.alloc(0))]),
        Buffer.from([7, 0, 0, 0, 0]),               // not a flag
      ];
      for (const body of bodies) {
        const res = await call(srv.address, 'Hello', { body });
        assert.strictEqual(res.grpcStatus, S.INVALID_ARGUMENT,
          `body ${body.toString('hex')}`);
        assert.ok(res.grpcMessage.length > 0);
      }
    });

  await t.test('a message that is not the method\'s is INVALID_ARGUMENT',
    async () => {
      const bad = [
        Buffer.from([0xff, 0xff, 0xff]),            // a cut varint key
        Buffer.from([0x0a, 0x10, 0x41]),            // a string cut short
        Buffer.from([0x0b]),                        // a group start
        Buffer.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
          0x80, 0x80, 0x01]),                       // an overlong varint
      ];
      for (const method of ['StartInstance', 'GetInstance', 'GetWorkItems',
        'CompleteOrchestratorTask', 'PurgeInstances', 'QueryInstances']) {
        for (const m of bad) {
          const res = await call(srv.address, method, { body: frame(m) });
          assert.strictEqual(res.grpcStatus, S.INVALID_ARGUMENT,
            `${method} ${m.toString('hex')}`);
        }
      }
      assert.deepStrictEqual(srv.problems(), []);
    });

  await t.test('a field of the wrong wire type is INVALID_ARGUMENT',
    async () => {
      // CreateInstanceRequest: instanceId (1) as a varint, not bytes
      const res = await call(srv.address, 'StartInstance',
        { body: frame(Buffer.from([0x08, 0x01, 0x12, 0x01, 0x41])) });
      assert.strictEqual(res.grpcStatus, S.INVALID_ARGUMENT);
    });

  await t.test('a compressed message is UNIMPLEMENTED', async () => {
    const res = await call(srv.address, 'Hello',
      { body: frame(Buffer.from([1, 2, 3]), 1) });
    assert.strictEqual(res.grpcStatus, S.UNIMPLEMENTED);
    assert.match(res.grpcMessage, /compressed/);
  });

  await t.test('a body nginx cannot read is INVALID_ARGUMENT, Trailers-Only',
    async () => {
      // nginx refuses a body longer or shorter than its content-length
      // while reading it (400): a gRPC status all the same, not its page
      const body = frame(Buffer.alloc(0));
      for (const length of [body.length + 10, body.length - 1]) {
        const res = await call(srv.address, 'Hello',
          { headers: { 'content-length': String(length) }, body });
        assert.strictEqual(res.status, 200, `content-length ${length}`);
        assert.match(res.headers['content-type'], /^application\/grpc/);
        assert.strictEqual(res.headers['grpc-status'],
          String(S.INVALID_ARGUMENT));
        assert.match(res.grpcMessage, /request is malformed, or its body is not what/);
        assert.strictEqual(res.body.length, 0);
      }
    });

  await t.test('other content types get HTTP 415, not gRPC', async () => {
    const res = await call(srv.address, 'Hello',
      { headers: { 'content-type': 'application/json' } });
    assert.strictEqual(res.status, 415);
    assert.strictEqual(res.grpcStatus, undefined);
  });

  await t.test('GET gets HTTP 405', async () => {
    const res = await call(srv.address, 'Hello',
      { headers: { ':method': 'GET' }, body: Buffer.alloc(0) });
    assert.strictEqual(res.status, 405);
  });

  await t.test('a bad grpc-timeout is INVALID_ARGUMENT', async () => {
    for (const v of ['5', '1x', '123456789S', 'S']) {
      const res = await call(srv.address, 'Hello',
        { headers: { 'grpc-timeout': v } });
      assert.strictEqual(res.grpcStatus, S.INVALID_ARGUMENT, v);
    }
  });

  await t.test('a bad taskhub is INVALID_ARGUMENT', async () => {
    const res = await call(srv.address, 'Hello',
      { headers: { taskhub: '1-not-a-hub' } });
    assert.strictEqual(res.grpcStatus, S.INVALID_ARGUMENT);
    assert.match(res.grpcMessage, /taskHub/);
  });

  await t.test('many calls on one connection', async () => {
    const session = http2.connect(`http://${srv.address}`);
    const all = [];
    for (let i = 0; i < 50; i++) {
      all.push(call(srv.address, i % 2 ? 'Hello' : 'Nope', { session }));
    }
    const res = await Promise.all(all);
    session.close();
    res.forEach((r, i) => assert.strictEqual(r.grpcStatus,
      i % 2 ? S.OK : S.UNIMPLEMENTED));
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});

test('keys', async (t) => {
  const keys = { system: 'sys-key-1', worker: 'wrk-key-1' };
  const srv = await nginx.start({ name: 'keys', keys });
  t.after(() => srv.stop());

  const cases = [
    // method, headers, status
    ['Hello', {}, S.UNAUTHENTICATED],
    ['Hello', { authorization: `Bearer ${keys.worker}` }, S.OK],
    ['Hello', { 'x-functions-key': keys.worker }, S.OK],
    ['Hello', { authorization: `Bearer ${keys.system}` }, S.UNAUTHENTICATED],
    ['Hello', { authorization: 'Bearer nope' }, S.UNAUTHENTICATED],
    ['Hello', { authorization: keys.worker }, S.UNAUTHENTICATED],
    ['NoSuchMethod', {}, S.UNAUTHENTICATED],
    ['NoSuchMethod', { 'x-functions-key': keys.system }, S.UNIMPLEMENTED],
  ];

  for (const [method, headers, status] of cases) {
    await t.test(`${method} ${JSON.stringify(headers)}`, async () => {
      const res = await call(srv.address, method, { headers });
      assert.strictEqual(res.grpcStatus, status);
      assert.strictEqual(res.status, 200);
    });
  }
});

test('a body over client_max_body_size', async (t) => {
  const srv = await nginx.start({ name: 'body-size',
                                  http: '    client_max_body_size  1k;' });
  t.after(() => srv.stop());

  // nginx refuses it itself: from the content-length before the call is
  // served, or while the body is read; either way a gRPC status
  const body = frame(Buffer.alloc(4096, 0x0a));
  const variants = [
    ['with a content-length', { 'content-length': String(body.length) }],
    ['without one', {}],
  ];

  for (const [what, headers] of variants) {
    await t.test(`${what}: RESOURCE_EXHAUSTED, Trailers-Only`, async () => {
      const res = await call(srv.address, 'Hello', { headers, body });
      assert.strictEqual(res.status, 200);
      assert.match(res.headers['content-type'], /^application\/grpc/);
      assert.strictEqual(res.headers['grpc-status'],
        String(S.RESOURCE_EXHAUSTED));
      assert.match(res.grpcMessage, /client_max_body_size/);
      assert.strictEqual(res.body.length, 0);
    });
  }

  await t.test('a body within the limit is served', async () => {
    const res = await call(srv.address, 'Hello');
    assert.strictEqual(res.grpcStatus, S.OK);
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});

test('client_max_body_size 0: a cut message is still INVALID_ARGUMENT',
  async (t) => {
    const srv = await nginx.start({ name: 'body-size-0',
                                    http: '    client_max_body_size  0;' });
    t.after(() => srv.stop());

    // the prefix announces 100 bytes, 10 follow: no limit was passed
    const res = await call(srv.address, 'Hello',
      { body: Buffer.concat([Buffer.from([0, 0, 0, 0, 100]),
                             Buffer.alloc(10)]) });
    assert.strictEqual(res.grpcStatus, S.INVALID_ARGUMENT, res.grpcMessage);
    assert.match(res.grpcMessage, /ended inside a message/);
    assert.strictEqual((await call(srv.address, 'Hello')).grpcStatus, S.OK);
  });

test('nginx\'s own refusals reach the SDK as gRPC statuses', async (t) => {
  // deny and limit_req answer before the module runs, in HTTP: the
  // endpoint turns that into a Trailers-Only status with a message, which
  // the SDK reports as it is (t/261-grpc-nginx-errors.t has the others)
  const cases = [
    ['deny', { server: '        deny  all;' }, 'PERMISSION_DENIED',
      /^The call is forbidden \(HTTP 403\)\.$/],
    ['limit_req', {
      http: '    limit_req_zone  $binary_remote_addr  zone=t:1m  rate=1r/m;',
      server: '        limit_req  zone=t;' },
    'UNAVAILABLE', /^The service is unavailable: retry later \(HTTP 503\)/],
  ];

  for (const [what, conf, name, message] of cases) {
    await t.test(what, async (st) => {
      const srv = await nginx.start({ name: `refusals-${what}`, ...conf });
      st.after(() => srv.stop());

      if (what === 'limit_req') {
        // the first call is within the rate
        const res = await call(srv.address, 'Hello');
        assert.strictEqual(res.grpcStatus, S.OK);
      }

      const res = await call(srv.address, 'Hello');
      assert.strictEqual(res.status, 200);
      assert.match(res.headers['content-type'], /^application\/grpc/);
      assert.strictEqual(res.headers['grpc-status'],
        String(grpc.status[name]));
      assert.match(res.grpcMessage, message);
      assert.strictEqual(res.body.length, 0);

      const client = new TaskHubGrpcClient({ hostAddress: srv.address,
        logger: new NoOpLogger() });
      await assert.rejects(client.getOrchestrationState('refused'),
        (e) => e.code === grpc.status[name] && message.test(e.details));
      await client.stop();

      assert.deepStrictEqual(srv.problems(), []);
    });
  }
});

test('TLS with ALPN', async (t) => {
  const srv = await nginx.start({ name: 'tls', tls: true });
  t.after(() => srv.stop());

  const session = http2.connect(`https://127.0.0.1:${srv.tlsPort}`,
    { rejectUnauthorized: false, ALPNProtocols: ['h2'] });
  t.after(() => session.close());
  await new Promise((resolve, reject) => {
    session.once('connect', resolve);
    session.once('error', reject);
  });
  assert.strictEqual(session.alpnProtocol, 'h2');
  const res = await call(srv.address, 'Hello', { session });
  assert.strictEqual(res.grpcStatus, S.OK);
  assert.strictEqual(res.messages.length, 1);
});

test('make run serves the gRPC service beside the API', async (t) => {
  const srv = await nginx.startExample();
  t.after(() => srv.stop());

  const res = await call(srv.address, 'Hello');
  assert.strictEqual(res.grpcStatus, S.OK);
  const api = await fetch(`${srv.http}/instances`);
  assert.strictEqual(api.status, 200);
});
