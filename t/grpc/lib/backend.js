// The store backend the suite runs on: LMDB, or PostgreSQL when
// GRPC_TEST_PG_CONNINFO is set (make test-grpc-postgres, lib/nginx.js).
//
// NOT_YET lists the tests, by name, that a PostgreSQL store cannot pass
// yet, each with its reason. Such a test starts with
//
//   if (notYet(t)) {
//     return;
//   }
//
// and is reported as skipped there. Remove an entry when its work lands.

'use strict';

// empty: every test passes on PostgreSQL
const NOT_YET = {};

const postgres = Boolean(process.env.GRPC_TEST_PG_CONNINFO);

// t: the test's own context; true when it is skipped on this backend
function notYet(t) {
  const why = postgres ? NOT_YET[t.name] : undefined;
  if (why === undefined) {
    return false;
  }
  t.skip(`not on PostgreSQL yet: ${why}`);
  return true;
}

module.exports = { postgres, notYet };
