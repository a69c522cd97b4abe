// durable-functions 2.x against ngx_durable: the webhook form (binding data
// of the 2.x extension, key in code=) and the local RPC form (rpcBaseUrl,
// the keyless /durabletask/ mount). See helpers.js for the environment.

"use strict";

const h = require("./helpers");

require("./classic").main(2, [
    ["webhook", { prefix: h.PREFIX_V2 }],
    ["rpc", { rpc: true }],
]).then((ok) => process.exit(ok ? 0 : 1), (e) => {
    console.error(e);
    process.exit(2);
});
