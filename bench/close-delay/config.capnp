# A bare workerd (no wrangler, no miniflare, no proxy in front): run by probe.mjs.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:9631", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [ (className = "Room", uniqueKey = "close-delay-room", enableSql = true) ],
  durableObjectStorage = (inMemory = void),
  bindings = [ (name = "ROOM", durableObjectNamespace = "Room") ],
);
