"""A small worker library for ngx_durable's worker protocol.

ngx_durable (the nginx module) is the task hub: it keeps every instance's
history and hands out work items over HTTP (docs/worker-protocol.md). This
module is the other half, in plain Python 3.11 with the standard library
only:

* a replay engine for generator-based orchestrator functions, in the style
  of the Azure Durable Functions Python SDK::

      def hello(ctx):
          a = yield ctx.call_activity("SayHello", "Tokyo")
          b = yield ctx.call_activity("SayHello", "Seattle")
          return [a, b]

* runners for activity functions (``fn(input) -> result``) and entity
  functions (``fn(state, operation, input) -> new state``);

* ``Worker``: one thread per work item kind, long-polling ``claim`` and
  reporting with ``complete``; an orchestration episode's completion
  claims the next episode in the same request (``claim=``).

Orchestrator code must be deterministic: everything it sees comes from the
history (inputs, results, ``ctx.current_utc_datetime``), so the same code
replayed over the same history makes the same calls in the same order.
Never read the wall clock, random numbers or the network in an orchestrator;
do that in activities.
"""

from __future__ import annotations

import collections
import concurrent.futures
import datetime as _dt
import json
import logging
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

__all__ = [
    "EntityId", "NonDeterminismError", "OrchestrationContext", "Task",
    "TaskFailedError", "Worker", "format_time", "parse_time",
    "run_activity", "run_entity_batch", "run_orchestration",
]

log = logging.getLogger("durable_worker")


# --------------------------------------------------------------------------
# Times: the module writes "2026-11-22T05:21:09.1234567Z" (7 fraction
# digits, .NET style) in events and accepts ISO 8601 in actions.

def parse_time(text: str) -> _dt.datetime:
    """Parse an ISO 8601 UTC time with any number of fraction digits."""
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    # datetime.fromisoformat takes at most 6 fraction digits: cut the rest
    head, dot, rest = s.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, tail = rest[:digits], rest[digits:]
        s = head + "." + (frac[:6].ljust(6, "0")) + tail
    t = _dt.datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    return t.astimezone(_dt.timezone.utc)


def format_time(t: _dt.datetime) -> str:
    """Format a time as the module's payload form, UTC, 'Z'-terminated."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    t = t.astimezone(_dt.timezone.utc)
    if t.microsecond:
        return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# Errors

class TaskFailedError(Exception):
    """An activity or sub-orchestration failed; raised at its ``yield``."""

    def __init__(self, reason, details=None, name=None):
        super().__init__(reason)
        self.reason = reason
        self.details = details
        self.name = name


class NonDeterminismError(Exception):
    """The orchestrator's calls do not match its recorded history."""


# --------------------------------------------------------------------------
# Tasks: what orchestrator code yields. A task is completed by a history
# event (atomic tasks) or by its children (task_all / task_any).

class Task:
    def __init__(self):
        self.is_completed = False
        self.is_faulted = False
        self.result = None
        self.exception = None
        self._parents = []

    def _complete(self, result):
        if not self.is_completed:
            self.is_completed, self.result = True, result
            self._notify()

    def _fail(self, exc):
        if not self.is_completed:
            self.is_completed = self.is_faulted = True
            self.exception = exc
            self._notify()

    def _notify(self):
        for parent in self._parents:
            parent._child_done(self)


class _ScheduledTask(Task):
    """An activity, timer or sub-orchestration with its schedule id."""

    def __init__(self, task_id, kind, name=None):
        super().__init__()
        self.id, self.kind, self.name = task_id, kind, name


class _EventTask(Task):
    """wait_for_external_event(name)."""

    def __init__(self, name):
        super().__init__()
        self.name = name


class _WhenAll(Task):
    """Completes with the list of results when every child has completed;
    fails with the first failure."""

    def __init__(self, children):
        super().__init__()
        self.children = list(children)
        for c in self.children:
            c._parents.append(self)
        self._check()

    def _child_done(self, child):
        self._check()

    def _check(self):
        if self.is_completed:
            return
        failed = [c for c in self.children if c.is_faulted]
        if failed:
            self._fail(failed[0].exception)
        elif all(c.is_completed for c in self.children):
            self._complete([c.result for c in self.children])


class _WhenAny(Task):
    """Completes with the first child that completes (the task itself, as
    the Durable Functions SDK does: look at ``.result``)."""

    def __init__(self, children):
        super().__init__()
        self.children = list(children)
        for c in self.children:
            c._parents.append(self)
        done = [c for c in self.children if c.is_completed]
        if done:
            self._complete(done[0])

    def _child_done(self, child):
        self._complete(child)


EntityId = collections.namedtuple("EntityId", "name key")


def _entity(entity_id):
    """EntityId, (name, key) or "@name@key" -> {"name":..., "key":...}."""
    if isinstance(entity_id, str):
        _, name, key = entity_id.split("@", 2)
    else:
        name, key = entity_id
    return {"name": name, "key": key}


# --------------------------------------------------------------------------
# The orchestration context and the replay engine

_SCHEDULED_EVENTS = {
    # history event -> the action type it confirms
    "TaskScheduled": "scheduleActivity",
    "TimerCreated": "createTimer",
    "SubOrchestrationInstanceCreated": "startSubOrchestration",
}


class OrchestrationContext:
    """What an orchestrator function gets. One context per episode: it
    replays ``history`` then ``messages`` of the work item."""

    def __init__(self, fn, instance_id, name, input_=None):
        self._fn = fn
        self.instance_id = instance_id
        self.name = name
        self.is_replaying = True
        self.current_utc_datetime = None
        self._input = input_
        self._seq = 0                   # next schedule id
        self._unconfirmed = {}          # id -> action not yet in history
        self._tasks = {}                # id -> _ScheduledTask awaiting result
        self._waiters = collections.defaultdict(collections.deque)
        self._received = collections.defaultdict(collections.deque)
        self._custom_status = None
        self._custom_status_dirty = False
        self._new_input = None
        self._continue = False
        self._gen = None
        self._waiting_on = None         # the task the generator yielded
        self._finish = None             # the finishing action, once done
        self._uuid_count = 0

    # ---- what orchestrator code calls ------------------------------------

    def get_input(self):
        return self._input

    def call_activity(self, name, input_=None):
        return self._schedule("scheduleActivity", name,
                              {"name": name, "input": input_})

    def create_timer(self, fire_at):
        """A durable timer; ``fire_at`` an aware (or UTC naive) datetime,
        usually ``ctx.current_utc_datetime + timedelta(...)``."""
        return self._schedule("createTimer", None,
                              {"fireAt": format_time(fire_at)})

    def call_sub_orchestrator(self, name, input_=None, instance_id=None):
        fields = {"name": name, "input": input_}
        if instance_id is not None:
            fields["instanceId"] = instance_id
        return self._schedule("startSubOrchestration", name, fields)

    def wait_for_external_event(self, name):
        """A task completed by the next event ``name`` (case-insensitive)
        raised on this instance; events that came before are buffered."""
        task = _EventTask(name)
        key = name.lower()
        if self._received[key]:
            task._complete(self._received[key].popleft())
        else:
            self._waiters[key].append(task)
        return task

    def signal_entity(self, entity_id, operation, input_=None):
        """Fire and forget: queue ``operation`` on an entity."""
        self._send({"type": "signalEntity", "entity": _entity(entity_id),
                    "operation": operation, "input": input_})

    def raise_event(self, instance_id, name, data=None):
        """Fire and forget: raise an event on another instance."""
        self._send({"type": "raiseEvent", "instanceId": instance_id,
                    "name": name, "input": data})

    def set_custom_status(self, status):
        self._custom_status = status
        if not self.is_replaying:
            self._custom_status_dirty = True

    def continue_as_new(self, input_=None):
        """Restart with ``input_`` once the orchestrator returns."""
        self._continue, self._new_input = True, input_

    @staticmethod
    def task_all(tasks):
        return _WhenAll(tasks)

    @staticmethod
    def task_any(tasks):
        return _WhenAny(tasks)

    def new_uuid(self):
        """A deterministic UUID (the same on every replay)."""
        self._uuid_count += 1
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%s/%d" % (
            self.instance_id, format_time(self.current_utc_datetime),
            self._uuid_count)))

    # ---- schedule ids and actions -----------------------------------------

    def _next_id(self):
        task_id, self._seq = self._seq, self._seq + 1
        return task_id

    def _schedule(self, action_type, name, fields):
        task_id = self._next_id()
        action = {"type": action_type, "id": task_id}
        action.update(fields)
        self._unconfirmed[task_id] = action
        task = _ScheduledTask(task_id, action_type, name)
        self._tasks[task_id] = task
        return task

    def _send(self, action):
        # Sends take a sequence number like every schedule call (as in the
        # Durable Task Framework) but carry no id in the action: the
        # module's EventSent event confirms them in order.
        self._unconfirmed[self._next_id()] = action

    def _confirm(self, event, action_type):
        """A history event recording an action of an earlier episode."""
        task_id = event.get("EventId")
        action = self._unconfirmed.get(task_id)
        if action is None or action["type"] != action_type:
            raise NonDeterminismError(
                "history has %s %s (id %s) that the orchestrator code did "
                "not schedule" % (event["EventType"], event.get("Name", ""),
                                  task_id))
        name = event.get("Name")
        if name is not None and action.get("name") not in (None, name):
            raise NonDeterminismError(
                "id %s: history has %s %r, code scheduled %r"
                % (task_id, event["EventType"], name, action["name"]))
        del self._unconfirmed[task_id]

    def _confirm_send(self, event):
        sends = [i for i, a in self._unconfirmed.items()
                 if a["type"] in ("raiseEvent", "signalEntity")]
        if not sends:
            raise NonDeterminismError(
                "history has EventSent %s that the orchestrator code did "
                "not send" % event.get("Name", ""))
        task_id = event.get("EventId")
        del self._unconfirmed[task_id if task_id in sends else sends[0]]

    # ---- applying events ---------------------------------------------------

    def _apply(self, event):
        kind = event.get("EventType")
        if kind == "OrchestratorStarted":
            self.current_utc_datetime = parse_time(event["Timestamp"])
        elif kind == "ExecutionStarted":
            if self._gen is None and self._finish is None:
                if "Input" in event:
                    self._input = event["Input"]
                self._start()
        elif kind in _SCHEDULED_EVENTS:
            self._confirm(event, _SCHEDULED_EVENTS[kind])
        elif kind == "EventSent":
            self._confirm_send(event)
        elif kind in ("TaskCompleted", "SubOrchestrationInstanceCompleted"):
            self._resolve(event.get("TaskScheduledId"), event.get("Result"))
        elif kind in ("TaskFailed", "SubOrchestrationInstanceFailed"):
            task = self._tasks.get(event.get("TaskScheduledId"))
            self._resolve(event.get("TaskScheduledId"), error=TaskFailedError(
                event.get("Reason"), event.get("Details"),
                task.name if task else None))
        elif kind == "TimerFired":
            self._resolve(event.get("TimerId"), None)
        elif kind == "EventRaised":
            key = (event.get("Name") or "").lower()
            if self._waiters[key]:
                self._waiters[key].popleft()._complete(event.get("Input"))
            else:
                self._received[key].append(event.get("Input"))
        # OrchestratorCompleted, ExecutionCompleted, ExecutionRewound,
        # ExecutionSuspended/Resumed/Terminated: nothing to do
        self._advance()

    def _resolve(self, task_id, result=None, error=None):
        task = self._tasks.pop(task_id, None)
        if task is None:
            # a result for something the code did not schedule (or that
            # was resolved already): nothing waits for it
            log.warning("%s: a result for id %s, which is not pending "
                        "(ignored)", self.instance_id, task_id)
            return
        if error is not None:
            task._fail(error)
        else:
            task._complete(result)

    # ---- running the generator ---------------------------------------------

    def _start(self):
        result = self._fn(self)
        if not hasattr(result, "send"):     # a plain function: done at once
            self._done(result)
            return
        self._gen = result
        self._resume()

    def _advance(self):
        task = self._waiting_on
        if task is not None and task.is_completed:
            self._waiting_on = None
            self._resume(task.result, task.exception)

    def _resume(self, value=None, error=None):
        """Run the generator until it waits on an unfinished task or ends."""
        while True:
            try:
                if error is not None:
                    task = self._gen.throw(error)
                else:
                    task = self._gen.send(value)
            except StopIteration as stop:
                self._done(stop.value)
                return
            except NonDeterminismError:
                raise
            except Exception as exc:        # the orchestrator failed
                self._failed(exc)
                return
            if not isinstance(task, Task):
                self._gen.close()
                self._failed(TypeError(
                    "orchestrators must yield tasks, got %r" % (task,)))
                return
            if not task.is_completed:
                self._waiting_on = task
                return
            value, error = task.result, task.exception

    def _done(self, output):
        self._gen = None
        if self._continue:
            self._finish = {"type": "continueAsNew", "input": self._new_input}
        else:
            self._finish = {"type": "complete", "output": output}

    def _failed(self, exc):
        self._gen = None
        self._finish = {"type": "fail", "reason": _reason(exc),
                        "details": _details(exc)}

    def _actions(self):
        actions = list(self._unconfirmed.values())     # in id order
        if self._custom_status_dirty:
            actions.append({"type": "setCustomStatus",
                            "customStatus": self._custom_status})
        if self._finish is not None:
            actions.append(self._finish)
        return actions


def _reason(exc):
    if isinstance(exc, TaskFailedError):
        what = "%r failed: " % exc.name if exc.name else ""
        return what + str(exc.reason)
    return "%s: %s" % (type(exc).__name__, exc)


def _details(exc):
    return "".join(traceback.format_exception(exc)).rstrip()


def run_orchestration(fn, item):
    """One episode: replay ``item["history"]``, then ``item["messages"]``;
    return (actions, context). Pure: no I/O, no clock."""
    ctx = OrchestrationContext(fn, item.get("instanceId"), item.get("name"),
                               item.get("input"))
    history = item.get("history") or []
    messages = item.get("messages") or []
    # The time of this episode: the module records an OrchestratorStarted
    # before the delivered messages. If the item does not carry it (as a
    # first message or as "timestamp"), use the newest message time.
    if not any(m.get("EventType") == "OrchestratorStarted" for m in messages):
        stamp = item.get("timestamp") or max(
            (m["Timestamp"] for m in messages if m.get("Timestamp")),
            default=None, key=lambda s: parse_time(s))
        if stamp:
            messages = [{"EventType": "OrchestratorStarted",
                         "Timestamp": stamp}] + list(messages)
    try:
        for n, event in enumerate(history + messages):
            ctx.is_replaying = n < len(history)
            if ctx._finish is not None:
                break
            ctx._apply(event)
    except NonDeterminismError as exc:
        ctx._unconfirmed.clear()
        ctx._custom_status_dirty = False
        ctx._failed(exc)
    ctx.is_replaying = False
    return ctx._actions(), ctx


# --------------------------------------------------------------------------
# Activities and entities

def run_activity(fn, item):
    """Run an activity; return the completion body (minus the lease)."""
    body = {"instanceId": item["instanceId"], "taskId": item["taskId"]}
    try:
        body["result"] = fn(item.get("input"))
    except Exception as exc:
        body["failure"] = {"reason": _reason(exc), "details": _details(exc)}
    return body


def run_entity_batch(fn, item):
    """Apply the operations of an entity item one at a time, in order.
    ``fn(state, operation, input)`` returns the new state; the operation
    ``delete`` deletes the entity (the state becomes None). An operation
    that raises leaves the state as it was. Returns the completion body."""
    state = item.get("state")
    entity = item["entity"]
    for op in item.get("operations") or []:
        name = op.get("operation")
        if name == "delete":
            state = None
            continue
        try:
            state = fn(state, name, op.get("input"))
        except Exception:
            log.exception("entity %s@%s: operation %s failed (ignored)",
                          entity.get("name"), entity.get("key"), name)
    body = {"entity": entity}
    if state is None:
        body["delete"] = True
    else:
        body["state"] = state
    return body


# --------------------------------------------------------------------------
# HTTP

class _Client:
    def __init__(self, base_url, task_hub=None, key=None, connection=None):
        self.base = base_url.rstrip("/")
        self.params = {}
        if task_hub:
            self.params["taskHub"] = task_hub
        if connection:
            self.params["connection"] = connection
        self.key = key

    def url(self, path, **params):
        """The URL of path; a list value repeats its parameter."""
        query = dict(self.params, **params)
        url = "%s/%s" % (self.base, path)
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        return url

    def post(self, path, body=None, timeout=30.0, **params):
        """POST JSON; return (status, parsed JSON or None). Raises OSError
        when the server cannot be reached."""
        url = self.url(path, **params)
        data = json.dumps(body if body is not None else {}).encode()
        req = urllib.request.Request(url, data=data, method="POST", headers={
            "Content-Type": "application/json"})
        if self.key:
            req.add_header("x-functions-key", self.key)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, {"Message": raw[:200].decode(errors="replace")}


# --------------------------------------------------------------------------
# The worker

class Worker:
    """Claims and runs the work of one task hub.

    Claims name the orchestrators, activities and entities registered
    here (``names=``), so the server hands out nothing else; a kind with
    nothing registered is not claimed at all. An item whose function is
    not registered here anyway (a server that ignores ``names``, or more
    names than a claim may carry) is abandoned, never failed: a task hub
    is shared by every worker that claims from it, and another one may
    have the function.

    ::

        w = Worker("http://127.0.0.1:8080/runtime/webhooks/durabletask")
        w.add_orchestrator("Hello", hello)
        w.add_activity("SayHello", lambda city: "Hello %s!" % city)
        w.run()
    """

    KINDS = ("orchestrations", "activities", "entities")
    ABANDON_PAUSE = 0.25                # seconds without claims of a kind
    NAMES_MAX = 32                      # names one claim may carry

    def __init__(self, base_url, task_hub=None, key=None, connection=None,
                 max_items=10, wait=5, activity_threads=8):
        self.client = _Client(base_url, task_hub, key, connection)
        self.max_items = max_items
        self.wait = wait
        self.activity_threads = activity_threads
        self.orchestrators, self.activities, self.entities = {}, {}, {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._busy = 0
        self._last_work = time.monotonic()
        self._once = False
        self._pause = {}                # kind -> no claim before this time
        self._unknown = set()           # (kind, name) abandoned already

    # ---- registration -------------------------------------------------------
    #
    # A misuse raises at once: a worker that registered nothing would
    # abandon every item of that name, and the instances would wait for
    # ever without a word.

    def add_orchestrator(self, name, fn):
        self._add(self.orchestrators, "orchestrator", name, fn, name)

    def add_activity(self, name, fn):
        self._add(self.activities, "activity", name, fn, name)

    def add_entity(self, name, fn):
        # the module lower-cases entity names
        self._add(self.entities, "entity", name, fn,
                  name.lower() if isinstance(name, str) else name)

    def orchestrator(self, name=None):
        """Decorator: ``@w.orchestrator()`` or ``@w.orchestrator("Name")``."""
        return self._decorator(self.add_orchestrator, "orchestrator", name)

    def activity(self, name=None):
        """Decorator: ``@w.activity()`` or ``@w.activity("Name")``."""
        return self._decorator(self.add_activity, "activity", name)

    def entity(self, name=None):
        """Decorator: ``@w.entity()`` or ``@w.entity("Name")``."""
        return self._decorator(self.add_entity, "entity", name)

    @staticmethod
    def _check_name(kind, name):
        if not isinstance(name, str):
            raise TypeError("%s name: a string, not %s"
                            % (kind, type(name).__name__))
        if not name:
            raise ValueError("%s name: empty" % kind)

    def _add(self, table, kind, name, fn, key):
        self._check_name(kind, name)
        if not callable(fn):
            raise TypeError("%s %r: %r is not callable" % (kind, name, fn))
        if key in table:
            raise ValueError("%s %r: registered twice" % (kind, name))
        table[key] = fn

    def _decorator(self, add, kind, name):
        if callable(name):
            # @w.orchestrator without parentheses: name is the function
            raise TypeError("@Worker.%s takes parentheses: @w.%s() or "
                            "@w.%s(\"Name\")" % (kind, kind, kind))
        if name is not None:
            self._check_name(kind, name)

        def register(fn):
            add(fn.__name__ if name is None else name, fn)
            return fn

        return register

    # ---- running ------------------------------------------------------------

    def run(self, exit_after=None, once=False, idle=3.0):
        """Run until stop(), Ctrl-C, ``exit_after`` seconds, or (``once``)
        until no work was claimed for ``idle`` seconds. Stopping takes up
        to ``wait`` seconds (the claims in flight end first)."""
        self._once = once
        threads = [threading.Thread(target=self._loop, args=(kind,),
                                    name="claim-" + kind, daemon=True)
                   for kind in self.KINDS]
        for t in threads:
            t.start()
        start = time.monotonic()
        try:
            while not self._stop.wait(0.2):
                now = time.monotonic()
                if exit_after is not None and now - start >= exit_after:
                    log.info("exit-after %ss: stopping", exit_after)
                    break
                with self._lock:
                    quiet = self._busy == 0 and now - self._last_work >= idle
                if once and quiet:
                    log.info("once: no work for %ss: stopping", idle)
                    break
        except KeyboardInterrupt:
            log.info("interrupted: stopping")
        self.stop()
        for t in threads:
            t.join()
        log.info("stopped")

    def stop(self):
        self._stop.set()

    def _table(self, kind):
        return {"orchestrations": self.orchestrators,
                "activities": self.activities,
                "entities": self.entities}[kind]

    def _claim_names(self, kind):
        """The names= of a claim of kind: the functions registered here.
        None: claim any name (more than a claim may carry; the abandon
        is the fallback)."""
        table = self._table(kind)
        if len(table) > self.NAMES_MAX:
            return None
        return sorted(table)

    def _loop(self, kind):
        handler = {"orchestrations": self._orchestration,
                   "activities": self._activity,
                   "entities": self._entity}[kind]
        names = self._claim_names(kind)
        if names == []:
            log.debug("no %s registered: not claiming them", kind)
            return
        extra = {"names": names} if names else {}
        pool = slots = None
        if kind == "activities":
            pool = concurrent.futures.ThreadPoolExecutor(
                self.activity_threads, thread_name_prefix="activity")
            slots = threading.Semaphore(self.activity_threads)
        backoff = 0.5
        while not self._stop.is_set():
            with self._lock:
                pause = self._pause.pop(kind, 0) - time.monotonic()
            if pause > 0 and self._stop.wait(pause):
                break
            want = self.max_items
            if slots is not None:       # claim no more than free threads
                if not slots.acquire(timeout=0.5):
                    continue
                want = 1
                while want < self.max_items and slots.acquire(blocking=False):
                    want += 1
            wait = 1 if self._once else self.wait
            try:
                status, body = self.client.post(
                    "worker/%s/claim" % kind, timeout=wait + 30,
                    max=want, wait=wait, **extra)
            except OSError as exc:
                status, body = None, {"Message": str(exc)}
            items = (body or {}).get("items") if status == 200 else None
            if items is None:
                log.warning("claim %s: %s %s", kind, status,
                            (body or {}).get("Message"))
                if slots is not None:
                    for _ in range(want):
                        slots.release()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10)
                continue
            backoff = 0.5
            if items:
                with self._lock:
                    self._busy += len(items)
            if slots is not None:
                for _ in range(want - len(items)):
                    slots.release()
            # an orchestration's completion may bring the next episode
            queue = collections.deque(items)
            while queue:
                item = queue.popleft()
                if pool is None:
                    more = self._guarded(handler, item)
                    if more:
                        with self._lock:
                            self._busy += len(more)
                        queue.extend(more)
                else:
                    pool.submit(self._guarded, handler, item, slots)
        if pool is not None:
            pool.shutdown(wait=True)

    def _guarded(self, handler, item, slots=None):
        """Runs handler(item); returns the items it claimed (a list) or
        None."""
        worked = True
        more = None
        try:
            # False: abandoned, which is no work for once's idle time;
            # a list: items its completion claimed
            more = handler(item)
            worked = more is not False
        except Exception:
            log.exception("work item failed: %r", item.get("instanceId")
                          or item.get("entity"))
        finally:
            with self._lock:
                self._busy -= 1
                if worked:
                    self._last_work = time.monotonic()
            if slots is not None:
                slots.release()
        return more if isinstance(more, list) else None

    def _complete(self, kind, body, what, **params):
        """POST the completion, retrying transport errors and 5xx (a
        completion with the same lease is idempotent). Returns its answer,
        or None. With ``claim`` in params: (answer or None, the items
        claimed with it), the items whatever became of the completion:
        they are leased to this worker."""
        claiming = "claim" in params
        delay = 0.5
        for _ in range(6):
            try:
                status, resp = self.client.post("worker/%s/complete" % kind,
                                                body, **params)
            except OSError as exc:
                status, resp = None, {"Message": str(exc)}
            items = []
            if claiming and status == 200 and "results" in (resp or {}):
                # {"results":[one result],"items":[...]}; a server that
                # knows no claim= answers as to a plain completion
                items = resp.get("items") or []
                resp = (resp.get("results") or [{}])[0]
                status = resp.get("status")
            if status == 200:
                return (resp, items) if claiming else resp
            msg = (resp or {}).get("Message")
            if status in (404, 409, 410):
                # purged, lease lost (someone else has the item), terminated
                log.warning("complete %s %s: %s %s (dropped)", kind, what,
                            status, msg)
                return (None, items) if claiming else None
            if status is not None and status < 500:
                log.error("complete %s %s: %s %s", kind, what, status, msg)
                return (None, items) if claiming else None
            log.warning("complete %s %s: %s %s (retrying)", kind, what,
                        status, msg)
            if self._stop.wait(delay):
                break
            delay *= 2
        return (None, []) if claiming else None

    # ---- the three kinds ----------------------------------------------------

    def _abandon(self, kind, identity, lease, name, what):
        """Give an item this worker has no function for back to the hub.

        Several apps may share a hub: another worker may have the
        function, so the instance must not fail here. The item is
        claimable again at once; this worker claims nothing of that kind
        for a moment, so that the others get their turn. Claims by name
        make this rare: only a server that ignores names=, or a worker
        with more functions of a kind than a claim may name, gets here."""
        first = (kind, name) not in self._unknown
        self._unknown.add((kind, name))
        log.log(logging.WARNING if first else logging.DEBUG,
                "%s %s: no function %r on this worker: abandoned, for a "
                "worker that has it", kind, what, name)
        try:
            status, resp = self.client.post("worker/%s/abandon" % kind,
                                            dict(identity, lease=lease))
        except OSError as exc:
            status, resp = None, {"Message": str(exc)}
        if status != 200:
            # the lease then expires, and the item is claimable again
            log.warning("abandon %s %s: %s %s", kind, what, status,
                        (resp or {}).get("Message"))
        with self._lock:
            self._pause[kind] = time.monotonic() + self.ABANDON_PAUSE

    def _orchestration(self, item):
        iid, name = item.get("instanceId"), item.get("name")
        fn = self.orchestrators.get(name)
        if fn is None:
            self._abandon("orchestrations", {"instanceId": iid},
                          item.get("lease"), name, iid)
            return False
        actions, _ = run_orchestration(fn, item)
        log.info("orchestration %s %s: %d+%d events -> %s", name, iid,
                 len(item.get("history") or []),
                 len(item.get("messages") or []),
                 ", ".join(a["type"] for a in actions) or "no actions")
        log.debug("actions: %s", json.dumps(actions))
        # the next episode comes with the answer: one request per episode
        claim = {"claim": "orchestrations", "max": 1}
        names = self._claim_names("orchestrations")
        if names:
            claim["names"] = names
        resp, more = self._complete("orchestrations", {
            "instanceId": iid, "lease": item["lease"], "actions": actions},
            iid, **claim)
        if resp is not None:
            log.debug("orchestration %s: %s", iid, resp.get("runtimeStatus"))
        return more

    def _activity(self, item):
        name = item.get("name")
        fn = self.activities.get(name)
        what = "%s %s#%s" % (name, item.get("instanceId"), item.get("taskId"))
        if fn is None:
            self._abandon("activities", {"instanceId": item.get("instanceId"),
                                         "taskId": item.get("taskId")},
                          item.get("lease"), name, what)
            return False
        renewer = _Renewer(self, "activities", {
            "instanceId": item["instanceId"], "taskId": item["taskId"]},
            item.get("lease"), item.get("leaseExpires"))
        try:
            body = run_activity(fn, item)
        finally:
            renewer.stop()
        body["lease"] = renewer.lease
        log.info("activity %s -> %s", what,
                 "failed" if "failure" in body else "done")
        self._complete("activities", body, what)

    def _entity(self, item):
        entity = item.get("entity") or {}
        name = entity.get("name", "")
        fn = self.entities.get(name.lower())
        what = "@%s@%s" % (name, entity.get("key"))
        if fn is None:
            self._abandon("entities", {"entity": entity}, item.get("lease"),
                          name, what)
            return False
        body = run_entity_batch(fn, item)
        body["lease"] = item["lease"]
        log.info("entity %s: %d operations -> %s", what,
                 len(item.get("operations") or []),
                 "deleted" if body.get("delete") else json.dumps(
                     body.get("state")))
        self._complete("entities", body, what)


class _Renewer:
    """Renews a lease at half of its remaining time until stop()."""

    def __init__(self, worker, kind, identity, lease, expires):
        self.worker, self.kind, self.identity = worker, kind, identity
        self.lease, self._done = lease, threading.Event()
        self._expires = expires
        self._thread = None
        if expires:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _seconds_left(self):
        now = _dt.datetime.now(_dt.timezone.utc)
        return (parse_time(self._expires) - now).total_seconds()

    def _run(self):
        while not self._done.wait(max(self._seconds_left() / 2, 0.5)):
            body = dict(self.identity, lease=self.lease)
            try:
                status, resp = self.worker.client.post(
                    "worker/%s/renew" % self.kind, body)
            except OSError as exc:
                log.warning("renew %s: %s", self.identity, exc)
                continue
            if status != 200:
                log.warning("renew %s: %s %s", self.identity, status,
                            (resp or {}).get("Message"))
                return
            self._expires = resp.get("leaseExpires", self._expires)

    def stop(self):
        self._done.set()
