
/*
 * Copyright (C) ngx_durable authors
 *
 * The versions of the PostgreSQL schema and the level of its functions
 * a build works with, for the backend (ds_pg.h) and the durable tool
 * (cli/durable_schema.c, cli/durable_pg.c) alike: one place, so that
 * the two never disagree. No include: the tool takes it without libpq's
 * or the store's internal headers.
 *
 * DSI_PG_SCHEMA: the last file's number of store/pg/schema/NNN-*.sql
 * (embed.sh checks it). DSI_PG_SCHEMA_MIN: the oldest version whose
 * tables and columns the functions and C code of this build work with.
 * A store refuses a database at any other (ds_store_pg.c): hosts of
 * several builds share a database while they are upgraded one by one.
 * 7 changed only the count triggers; 8 added an activity's version and
 * tags, 9 a sub-orchestration's parent's created time, which the
 * functions use only on a database that has them. The
 * tool upgrades to no version below DSI_PG_SCHEMA_MIN, since the
 * functions it creates would not fit its tables, and its other commands
 * read databases of the same range.
 *
 * DSI_PG_FUNCTIONS: the least level of the functions (store/pg/functions/,
 * durable.functions_level(), which embed.sh checks against this) a store
 * takes; they are created by "durable schema upgrade" whatever the
 * version it brings the schema to, and never over functions of a higher
 * level. A function this build starts to call raises both; one it calls
 * otherwise (other arguments or answers) comes under a name of its own,
 * as older modules may still call the old one. Level 5 calls nothing
 * new: its functions deliver a child's end only to the parent that
 * started it (durable.deliver_parent()), and a store takes no functions
 * without that. Level 6 calls nothing new either: its tree walks
 * (recursive terminate and purge, a completion's orphans) take only the
 * children of the parent's life that started them (durable.child_of()),
 * not an earlier life's of an id purged and started again.
 * Nor does level 7: its durable.entity_settle() drops a lock request no
 * one would take before it locks, so that a queue of ended waiters
 * cannot leave an entity locked for good. Level 8 neither: a lock grant
 * carries its set (LockSet, which durable.message_public() leaves out of
 * what workers see), and a rewind sends again a lock request whose grant
 * was released (durable.entity_lock_pending()). Nor level 9: a rewind
 * takes only the children of its parent's life (durable.child_of_life()).
 * Nor level 10: a rewind fails the task of a sub-orchestration whose id
 * another instance holds, so that the parent does not wait for ever.
 * Nor level 11: an entity's answer to a call and its lock grant go only
 * to the life of the orchestration that sent them (durable.sender_gone(),
 * durable.deliver_life()), not to a later one under its id, purged and
 * started again, which the grant would leave waiting for ever; and the
 * locks an execution still holds go with its history when it is purged,
 * replaced by a new start or continued as new (durable.release_held()).
 */


#ifndef DS_PG_SCHEMA_H
#define DS_PG_SCHEMA_H


#define DSI_PG_SCHEMA_MIN   6
#define DSI_PG_SCHEMA       9
#define DSI_PG_FUNCTIONS    11


#endif /* DS_PG_SCHEMA_H */
