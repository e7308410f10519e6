// Conversions between the JavaScript objects of engine/dataplane/native.ts and the data plane's structs.
// Addresses cross as unsigned 32-bit numbers in host order; the TypeScript side parses text.
#pragma once

#include <napi.h>

#include "dataplane.h"

namespace l4lb::binding {

Config config_from_js(const Napi::Object& js);
// A virtual service with its real servers (NativeService).
ServiceConfig service_from_js(const Napi::Object& js);
std::vector<std::string> strings_from_js(const Napi::Array& js);
SessionFilter filter_from_js(const Napi::Object& js, const Dataplane& dataplane);
Napi::Array errors_to_js(Napi::Env env, const std::vector<ApplyError>& errors);
Napi::Object status_to_js(Napi::Env env, const EngineStatus& status);
Napi::Object nic_to_js(Napi::Env env, const NicStatus& n);
Napi::Object session_to_js(Napi::Env env, const SessionRecord& session);

}  // namespace l4lb::binding
