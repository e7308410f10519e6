// Data-plane calls that wait for the workers to walk their session tables (listing and
// flushing sessions, sync snapshots: tens of ms with a million sessions) run on a libuv
// thread and hand JavaScript a promise, so Node's event loop goes on meanwhile. Every call
// into the data plane holds control_lock(), whatever its thread: they still run one at a time.
#pragma once

#include <functional>
#include <mutex>
#include <utility>

#include <napi.h>

#include "dataplane.h"

namespace l4lb::binding {

std::mutex& control_lock();     // addon.cc
Dataplane* live_dataplane();    // null once closed; read under control_lock()

template <class Result>
class ControlWork final : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result(Dataplane&)>;             // on the libuv thread, locked
  using Settle = std::function<Napi::Value(Napi::Env, Result&)>;   // on the JavaScript thread

  // Queues `work`; the promise resolves with settle(result), or rejects with the error.
  static Napi::Promise run(Napi::Env env, Work work, Settle settle) {
    auto* job = new ControlWork(env, std::move(work), std::move(settle));
    Napi::Promise promise = job->deferred_.Promise();
    job->Queue();   // deletes itself once settled
    return promise;
  }

 private:
  ControlWork(Napi::Env env, Work work, Settle settle)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)),
        settle_(std::move(settle)) {}

  void Execute() override {
    std::lock_guard<std::mutex> lock(control_lock());
    Dataplane* dataplane = live_dataplane();
    if (!dataplane) return SetError("the data plane is closed");
    try {
      result_ = work_(*dataplane);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() override {
    try {
      deferred_.Resolve(settle_(Env(), result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

  Napi::Promise::Deferred deferred_;
  Work work_;
  Settle settle_;
  Result result_{};
};

}  // namespace l4lb::binding
