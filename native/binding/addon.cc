// The Node addon: a thin node-addon-api class over l4lb::Dataplane (dataplane.h). It converts
// arguments (convert.cc), turns C++ exceptions into JavaScript errors, and makes sure the
// workers stop when Node exits: both an environment cleanup hook and atexit(), because
// process.exit() skips the former. Calls that wait for the workers' table walks return
// promises and run on a libuv thread (control_work.h); every call holds the control lock,
// but for the sync ring calls, which touch only the rings and only ever run on the JavaScript
// thread (each ring has that thread as its one consumer or producer).
#include <algorithm>
#include <cstdlib>
#include <mutex>

#include <napi.h>

#include "control_work.h"
#include "convert.h"

namespace l4lb::binding {

namespace {

Dataplane* live = nullptr;  // at most one per process: the EAL is per process

void stop_live() {
  std::lock_guard<std::mutex> lock(control_lock());
  delete live;
  live = nullptr;
}

IdleMode idle_mode(const std::string& text) {
  if (text == "busy") return IdleMode::busy;
  if (text == "adaptive") return IdleMode::adaptive;
  throw std::invalid_argument("idle must be adaptive or busy");
}

}  // namespace

std::mutex& control_lock() {
  static std::mutex lock;
  return lock;
}

Dataplane* live_dataplane() { return live; }

class Engine : public Napi::ObjectWrap<Engine> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {InstanceMethod("check", &Engine::Check), InstanceMethod("apply", &Engine::Apply),
                        InstanceMethod("updateServices", &Engine::UpdateServices),
                        InstanceMethod("status", &Engine::Status), InstanceMethod("nics", &Engine::Nics),
                        InstanceMethod("sessions", &Engine::Sessions),
                        InstanceMethod("flushSessions", &Engine::FlushSessions),
                        InstanceMethod("announce", &Engine::Announce), InstanceMethod("drainSync", &Engine::DrainSync),
                        InstanceMethod("ingestSync", &Engine::IngestSync),
                        InstanceMethod("snapshotSync", &Engine::SnapshotSync), InstanceMethod("close", &Engine::Close)});
  }

  explicit Engine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Engine>(info) {
    Napi::Env env = info.Env();
    std::lock_guard<std::mutex> lock(control_lock());
    if (live) throw Napi::Error::New(env, "a data plane is already running in this process");
    Napi::Object o = info[0].As<Napi::Object>();
    EngineOptions options;
    try {
      options.workers = uint16_t(o.Get("workers").As<Napi::Number>().Uint32Value());
      options.idle = idle_mode(o.Get("idle").As<Napi::String>().Utf8Value());
      options.sessions_per_worker = o.Get("sessionsPerWorker").As<Napi::Number>().Uint32Value();
      options.instance = o.Get("instance").As<Napi::String>().Utf8Value();
      live = new Dataplane(options);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    static std::once_flag hooks;
    std::call_once(hooks, [&] {
      napi_add_env_cleanup_hook(env, [](void*) { stop_live(); }, nullptr);
      std::atexit(stop_live);
    });
  }

 private:
  Dataplane& dataplane(Napi::Env env) {
    if (!live) throw Napi::Error::New(env, "the data plane is closed");
    return *live;
  }

  Napi::Value Check(const Napi::CallbackInfo& info) { return Run(info, false); }
  Napi::Value Apply(const Napi::CallbackInfo& info) { return Run(info, true); }

  // Returns the errors ([] when accepted); apply makes the config the running one.
  Napi::Value Run(const Napi::CallbackInfo& info, bool apply) {
    Napi::Env env = info.Env();
    std::lock_guard<std::mutex> lock(control_lock());
    Dataplane& d = dataplane(env);
    try {
      Config config = config_from_js(info[0].As<Napi::Object>());
      return errors_to_js(env, apply ? d.apply(config) : d.check(config));
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

  // updateServices(generation, services, removed) → errors ([] when accepted)
  Napi::Value UpdateServices(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::lock_guard<std::mutex> lock(control_lock());
    Dataplane& d = dataplane(env);
    try {
      Napi::Array js = info[1].As<Napi::Array>();
      std::vector<ServiceConfig> services;
      services.reserve(js.Length());
      for (uint32_t i = 0; i < js.Length(); ++i) services.push_back(service_from_js(js.Get(i).As<Napi::Object>()));
      uint64_t generation = uint64_t(info[0].As<Napi::Number>().Int64Value());
      return errors_to_js(env, d.update_services(generation, services, strings_from_js(info[2].As<Napi::Array>())));
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

  // status(service?) → the status; with a service name, that service alone and no NICs.
  Napi::Value Status(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(control_lock());
    Dataplane& d = dataplane(info.Env());
    if (!info[0].IsString()) return status_to_js(info.Env(), d.status());
    std::string only = info[0].As<Napi::String>().Utf8Value();
    return status_to_js(info.Env(), d.status(&only));
  }

  // nics() → the NICs' status alone
  Napi::Value Nics(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::lock_guard<std::mutex> lock(control_lock());
    std::vector<NicStatus> nics = dataplane(env).nic_status();
    Napi::Array array = Napi::Array::New(env, nics.size());
    for (uint32_t i = 0; i < nics.size(); ++i) array.Set(i, nic_to_js(env, nics[i]));
    return array;
  }

  // sessions(filter, skip, limit) → Promise<{ items, total }>
  Napi::Value Sessions(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct Page {
      std::vector<SessionRecord> items;
      size_t total = 0;
    };
    SessionFilter filter;
    {
      std::lock_guard<std::mutex> lock(control_lock());   // names to ids, against the running config
      filter = filter_from_js(info[0].As<Napi::Object>(), dataplane(env));
    }
    size_t skip = info[1].As<Napi::Number>().Uint32Value(), limit = info[2].As<Napi::Number>().Uint32Value();
    return ControlWork<Page>::run(
        env,
        [filter, skip, limit](Dataplane& d) {
          Page page;
          page.items = d.sessions(filter, skip, limit, &page.total);
          return page;
        },
        [](Napi::Env env, Page& page) -> Napi::Value {
          Napi::Array items = Napi::Array::New(env, page.items.size());
          for (uint32_t i = 0; i < page.items.size(); ++i) items.Set(i, session_to_js(env, page.items[i]));
          Napi::Object result = Napi::Object::New(env);
          result.Set("items", items);
          result.Set("total", double(page.total));
          return result;
        });
  }

  // flushSessions(service?) → Promise<number of sessions ended>
  Napi::Value FlushSessions(const Napi::CallbackInfo& info) {
    std::string service = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    return ControlWork<size_t>::run(
        info.Env(), [service](Dataplane& d) { return d.flush_sessions(service); },
        [](Napi::Env env, size_t& ended) -> Napi::Value { return Napi::Number::New(env, double(ended)); });
  }

  Napi::Value Announce(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(control_lock());
    dataplane(info.Env()).announce();
    return info.Env().Undefined();
  }

  // drainSync(maxRecords, node, firstSequence) → Buffer of wire records, or null
  Napi::Value DrainSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<uint8_t> records;
    dataplane(env).drain_sync(info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value(),
                              info[2].As<Napi::Number>().Uint32Value(), records);
    if (records.empty()) return env.Null();
    return Napi::Buffer<uint8_t>::Copy(env, records.data(), records.size());
  }

  // ingestSync(records, ageMs) → { queued, refused }
  Napi::Value IngestSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "records must be a Buffer");
    auto records = info[0].As<Napi::Buffer<uint8_t>>();
    double age = std::max(0.0, info[1].As<Napi::Number>().DoubleValue());
    SyncIngestResult r = dataplane(env).ingest_sync(records.Data(), records.Length(), uint64_t(age));
    Napi::Object result = Napi::Object::New(env);
    result.Set("queued", double(r.queued));
    result.Set("refused", double(r.refused));
    return result;
  }

  // snapshotSync(cursor, limit, node) → Promise<{ records, next }> (next null at the end)
  Napi::Value SnapshotSync(const Napi::CallbackInfo& info) {
    struct Chunk {
      std::vector<uint8_t> records;
      uint64_t next = 0;
    };
    uint64_t cursor = uint64_t(info[0].As<Napi::Number>().DoubleValue());
    uint32_t limit = info[1].As<Napi::Number>().Uint32Value(), node = info[2].As<Napi::Number>().Uint32Value();
    return ControlWork<Chunk>::run(
        info.Env(),
        [cursor, limit, node](Dataplane& d) {
          Chunk chunk;
          chunk.next = d.snapshot_sync(cursor, limit, node, chunk.records);
          return chunk;
        },
        [](Napi::Env env, Chunk& chunk) -> Napi::Value {
          Napi::Object result = Napi::Object::New(env);
          result.Set("records", Napi::Buffer<uint8_t>::Copy(env, chunk.records.data(), chunk.records.size()));
          result.Set("next", chunk.next == Dataplane::kSnapshotDone ? env.Null() : Napi::Number::New(env, double(chunk.next)));
          return result;
        });
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    stop_live();
    return info.Env().Undefined();
  }
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Engine", Engine::Define(env));
  exports.Set("syncRecordSize", Napi::Number::New(env, double(kSyncRecordSize)));   // engine/sync/wire.ts must agree
  return exports;
}

NODE_API_MODULE(l4lb_native, Init)

}  // namespace l4lb::binding
