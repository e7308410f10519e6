# The Node addon: the binding (this folder) linked with every data-plane source, against
# Debian's DPDK through pkg-config. Built by `npm run build:native` (node-gyp).
{
  "targets": [
    {
      "target_name": "l4lb_native",
      "sources": ["addon.cc", "convert.cc", "<!@(ls -1 ../dataplane/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "../dataplane"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O2", "-g", "-Wno-unused-parameter", "<!@(pkg-config --cflags libdpdk)"],
      "libraries": ["<!@(pkg-config --libs libdpdk)"]
    }
  ]
}
