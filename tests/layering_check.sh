#!/usr/bin/env bash
# Checks the dependency direction of the README on the sources: each layer includes only
# the standard library and the layers below it. Prints every offending include.
set -uo pipefail
root=$1
fail=0
check() {  # folder, allowed quoted-include prefixes (regex), forbidden system includes (regex)
  local dir=$1 allowed=$2 forbidden=$3
  if [[ ! -d $root/$dir ]]; then echo "layering: $dir/ is missing"; fail=1; return; fi
  while IFS= read -r line; do
    echo "layering: $line (in $dir/ only $allowed may be included)"; fail=1
  done < <(grep -rnE '#include "' "$root/$dir" --include='*.h' --include='*.cc' | grep -vE "#include \"($allowed)")
  while IFS= read -r line; do
    echo "layering: $line (forbidden in $dir/)"; fail=1
  done < <(grep -rnE "#include <($forbidden)" "$root/$dir" --include='*.h' --include='*.cc')
}
check hpack 'hpack/' 'protocol/|host/|sdk/|boost|openssl|yaml-cpp|sys/|unistd|netinet|arpa/|thread|chrono|pthread'
check protocol 'hpack/|protocol/' 'host/|sdk/|boost|openssl|yaml-cpp|sys/|unistd|netinet|arpa/|thread|chrono|pthread'
check sdk 'sdk/|h2/' 'boost|openssl|yaml-cpp'
# Module serving runs under any runtime: no Asio/Beast, OpenSSL, yaml-cpp, nor the host. From
# Boost only Boost.DLL, the module loader (header-only).
check serve 'hpack/|protocol/|serve/|h2/' 'boost/([^d]|d[^l]|dl[^l])|boost/dll[^/.]|openssl|yaml-cpp|asio|liburing'
# HTTP/1.1 for every runtime: serve/ and below, Beast's parser and what it needs; no I/O, no
# OpenSSL, never the host. (Asio: its buffer type and, in boost_impl.cc, its compiled implementation.)
check http1 'hpack/|protocol/|serve/|h2/|http1/' 'boost/asio/([^ib]|i[^m]|b[^u])|boost/beast/(websocket|ssl|core/tcp_stream|core/basic_stream)|openssl|yaml-cpp|liburing|host/|tls/'
# TLS as a layer: serve/ and below and OpenSSL; no I/O library, never the host.
check tls 'hpack/|protocol/|serve/|h2/|tls/' 'boost|yaml-cpp|asio|liburing|host/'
# The lwIP runtime: serve/, tls/ and below, lwIP (angle-bracket includes); never the host, Asio
# or Boost.
check lwip_runtime 'hpack/|protocol/|serve/|h2/|tls/|lwip_runtime/' 'boost|yaml-cpp|asio|liburing|host/'
check modules 'sdk/|h2/|modules/' 'boost|openssl|yaml-cpp'
check spec-handlers 'sdk/|h2/|spec-handlers/' 'boost|openssl|yaml-cpp'
check examples 'hpack/|protocol/|examples/' 'host/|sdk/|boost|openssl|yaml-cpp'
if ((fail)); then echo "layering: FAILED"; exit 1; fi
echo "layering: hpack, protocol, sdk, serve, http1, tls, lwip_runtime, modules, spec-handlers and examples respect the layer rules"
