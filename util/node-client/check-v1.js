// durable-functions 1.x against ngx_durable: the 1.x host's webhook prefix
// (/admin/extensions/DurableTaskExtension, 1.x extension binding data), the
// 2.x+ prefix and the local RPC form. See helpers.js for the environment.

"use strict";

const h = require("./helpers");

require("./classic").main(1, [
    ["webhook-1x", { prefix: h.PREFIX_V1, extension1: true }],
    ["webhook", { prefix: h.PREFIX_V2 }],
    ["rpc", { rpc: true }],
]).then((ok) => process.exit(ok ? 0 : 1), (e) => {
    console.error(e);
    process.exit(2);
});
