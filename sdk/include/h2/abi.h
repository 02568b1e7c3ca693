/* The binary contract between h2host and a handler module (.so). Plain C: only these types
 * cross the library boundary, never a C++ object, an exception or an allocator's memory that
 * the other side frees. Modules normally use the C++ layer in h2/module.hpp instead.
 *
 * A module exports ONE symbol, h2_module_descriptor_v1 (H2_MODULE in h2/module.hpp defines it),
 * returning a pointer to a static descriptor. The host checks, in order: ABI major equal, ABI
 * minor not newer than its own, build signature identical; then calls
 *   init            once, with the module's config and the host API table;
 *   create_handler  once per route served by the module, with the route's config;
 *   handle          once per request on that route (possibly concurrently on several
 *                   worker threads: one call per exchange, on the exchange's thread);
 *   destroy_handler once per handler, when the host no longer routes to it;
 *   shutdown        once, after every handler, exchange and pending callback of the module is
 *                   gone; the library is unloaded right after.
 *
 * ABI rules: the major changes when any existing type or function changes meaning or layout;
 * the minor grows when functions are appended to h2_host_api or fields to the descriptor
 * (never inserted). A host accepts
 * modules of its major with a minor <= its own. An older host refuses a newer module.
 *
 * Callbacks: every callback a module hands the host (h2_read_fn, h2_flush_fn, h2_release_fn,
 * h2_timer_fn, h2_cancel_fn) is called EXACTLY ONCE, on the exchange's thread - with a
 * "cancelled"/"closed" value when the event can no longer happen - so the module can free its
 * context there. It may be called before the registering function returns. A callback that
 * reports cancellation may run while the host tears the connection down: it should only free
 * memory and release references.
 *
 * Threads: every h2_host_api function takes the thread of the exchange it is given, except
 * logging, config reads and the poster functions (ABI 1.1), which any thread may call. A module
 * that hands work to threads of its own makes an h2_poster on the exchange's thread, gives it to
 * the worker thread, and posts the answer back (the pattern of Envoy's dynamic-module
 * scheduler): the task then runs on the exchange's thread, where it may use the exchange.
 *
 * Versions: 1.0 the first; 1.1 appended poster_new, poster_post, poster_release; 1.2 appended
 * module_config_schema and route_config_schema to h2_module_descriptor (read only from
 * modules whose abi_minor >= 2, so 1.0 and 1.1 modules keep loading); 1.3 appended the upstream
 * request functions (upstream_open ... upstream_ended_with_head) to h2_host_api.
 *
 * Strings: h2_str is a view (not NUL-terminated). Who owns the bytes is said at each use.
 * Results: functions returning int return an h2_result. */
#ifndef H2_ABI_H
#define H2_ABI_H

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#define H2_ABI_MAJOR 1
#define H2_ABI_MINOR 3
#define H2_DESCRIPTOR_SYMBOL "h2_module_descriptor_v1"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handles. h2_exchange is reference counted (exchange_retain/exchange_release);
 * h2_config nodes are owned by the host and valid until the module's shutdown returns;
 * h2_host identifies the module to the host (for logs), valid until shutdown returns. */
typedef struct h2_exchange h2_exchange;
typedef struct h2_config h2_config;
typedef struct h2_host h2_host;
/* ABI 1.1: a thread-safe handle that posts tasks onto one exchange's thread. */
typedef struct h2_poster h2_poster;
/* ABI 1.3: one request the host sends upstream for a module (upstream_open). Owned by the
 * module (one reference, upstream_release); used on the thread of the exchange it was opened
 * from. */
typedef struct h2_upstream h2_upstream;

typedef struct h2_str {
  const char* data;
  size_t size;
} h2_str;

typedef struct h2_header {
  h2_str name; /* lowercase */
  h2_str value;
} h2_header;

enum h2_result {
  H2_OK = 0,
  H2_UNSUPPORTED = 1, /* not expressible on this protocol (push/trailers/1xx on HTTP/1.1) */
  H2_REFUSED = 2,     /* the peer refused (push disabled, stream limit) */
  H2_CLOSED = 3,      /* the stream is gone */
  H2_INVALID = 4      /* misuse (second response, write before respond_streaming, ...) */
};

enum h2_http_version { H2_HTTP_1_1 = 1, H2_HTTP_2 = 2 };
enum h2_read_event { H2_READ_CHUNK = 0, H2_READ_EOF = 1, H2_READ_CANCELLED = 2 };
enum h2_flush_result { H2_FLUSH_WRITTEN = 0, H2_FLUSH_CLOSED = 1 };
enum h2_log_level { H2_LOG_ERROR = 0, H2_LOG_WARN = 1, H2_LOG_INFO = 2, H2_LOG_DEBUG = 3 };
enum h2_config_kind {
  H2_CONFIG_NULL = 0,
  H2_CONFIG_BOOL = 1,
  H2_CONFIG_INT = 2,
  H2_CONFIG_STRING = 3,
  H2_CONFIG_LIST = 4,
  H2_CONFIG_MAP = 5
};
enum h2_request_field {
  H2_REQ_METHOD = 0,
  H2_REQ_SCHEME = 1,
  H2_REQ_AUTHORITY = 2,
  H2_REQ_PATH = 3,
  H2_REQ_PROTOCOL = 4, /* RFC 8441 :protocol, empty when absent */
  H2_REQ_PEER = 5      /* "ip:port" or unix socket path */
};

/* Body chunk (event H2_READ_CHUNK; data valid during the call only), end of body
 * (H2_READ_EOF; trailers readable now) or H2_READ_CANCELLED (stream gone / read refused). */
typedef void (*h2_read_fn)(void* ctx, int event, const char* data, size_t size);
/* result: h2_flush_result. */
typedef void (*h2_flush_fn)(void* ctx, int result);
/* The host no longer references the bytes. */
typedef void (*h2_release_fn)(void* ctx);
/* fired: 1 when the delay elapsed, 0 when the connection went away first. */
typedef void (*h2_timer_fn)(void* ctx, int fired);
/* cancelled: 1 when the peer reset the stream / the connection went away before the exchange
 * completed; 0 when the callback is dropped without that (exchange completed or replaced). */
typedef void (*h2_cancel_fn)(void* ctx, int cancelled);

/* ABI 1.1. run=1: on the exchange's thread; ex is the poster's exchange, valid during the call
 * (exchange_retain it to keep it). run=0: the connection's event loop has stopped; ex is NULL and
 * the call may come from any thread: free ctx only. */
typedef void (*h2_task_fn)(void* ctx, h2_exchange* ex, int run);

/* ABI 1.3: what happened to an upstream request (h2_upstream_head_fn's event). */
enum h2_upstream_event {
  H2_UPSTREAM_INFORMATIONAL = 0, /* a 1xx head (not 101): status and headers readable now */
  H2_UPSTREAM_RESPONSE = 1,      /* the final head: status and headers readable until release */
  H2_UPSTREAM_FAILED = 2         /* no response will come: upstream_error says why */
};
/* Why an upstream request failed (upstream_error). A proxy answers 504 for H2_UPSTREAM_TIMEOUT
 * and 502 for the rest. */
enum h2_upstream_error {
  H2_UPSTREAM_OK = 0,
  H2_UPSTREAM_CONNECT = 1,   /* resolve, TCP / unix connect, TLS handshake, verification, ALPN */
  H2_UPSTREAM_TIMEOUT = 2,   /* connect_timeout_ms or response_timeout_ms elapsed */
  H2_UPSTREAM_RESET = 3,     /* the upstream reset the stream or its connection ended */
  H2_UPSTREAM_PROTOCOL = 4,  /* the upstream broke HTTP/2 (bad head, header list too large) */
  H2_UPSTREAM_CANCELLED = 5  /* upstream_release before the end, or the worker stopped */
};
/* Called on the exchange's thread: once per 1xx head (H2_UPSTREAM_INFORMATIONAL), then EXACTLY
 * ONCE with H2_UPSTREAM_RESPONSE or H2_UPSTREAM_FAILED (free ctx then). Never inline in
 * upstream_open. */
typedef void (*h2_upstream_head_fn)(void* ctx, h2_upstream* up, int event);

/* ABI 1.3: the request upstream_open sends. Views valid for the call (the host copies). */
typedef struct h2_upstream_request {
  /* The origin: "http://host[:port]" (HTTP/2 prior knowledge) or "https://host[:port]" (TLS,
   * ALPN h2, certificate and name verified). A path in it is ignored: `path` below is sent. */
  h2_str origin;
  h2_str unix_socket; /* non-empty: connect to this socket instead of host:port */
  h2_str method;
  h2_str authority; /* :authority sent; empty: the origin's host[:port] */
  h2_str path;      /* path and query */
  const h2_header* headers; /* lowercase names; connection-specific fields are refused */
  size_t header_count;
  int end_stream;               /* 1: no request body (upstream_write/end are refused) */
  uint64_t connect_timeout_ms;  /* 0: 10 s. Resolve + connect + TLS */
  uint64_t response_timeout_ms; /* 0: 60 s. From the request to its final head */
  int verify_peer;              /* https: 1 verify the certificate (default), 0 do not */
  h2_str ca_file;               /* https: PEM CA file; empty: the system trust store */
} h2_upstream_request;

/* Views valid for the duration of the call that takes them; the host copies what it keeps. */
typedef struct h2_response {
  int status;
  const h2_header* headers;
  size_t header_count;
} h2_response;

typedef struct h2_push_request {
  h2_str method; /* "GET" or "HEAD" */
  h2_str path;
  const h2_header* headers;
  size_t header_count;
} h2_push_request;

/* Everything that breaks binary compatibility of the C++ layer both sides compile. */
typedef struct h2_build_signature {
  uint32_t pointer_size;    /* sizeof(void*) */
  uint32_t compiler_family; /* 1 GCC, 2 Clang, 0 other */
  uint32_t compiler_major;  /* __GNUC__ / __clang_major__ */
  uint32_t cxx11_abi;       /* _GLIBCXX_USE_CXX11_ABI (libstdc++), else 0 */
  uint32_t stdlib;          /* 1 libstdc++, 2 libc++, 0 other */
  uint32_t little_endian;   /* 1 / 0 */
} h2_build_signature;

#if defined(__clang__)
#define H2_COMPILER_FAMILY_ 2u
#define H2_COMPILER_MAJOR_ ((uint32_t)__clang_major__)
#elif defined(__GNUC__)
#define H2_COMPILER_FAMILY_ 1u
#define H2_COMPILER_MAJOR_ ((uint32_t)__GNUC__)
#else
#define H2_COMPILER_FAMILY_ 0u
#define H2_COMPILER_MAJOR_ 0u
#endif
#if defined(_GLIBCXX_USE_CXX11_ABI)
#define H2_CXX11_ABI_ ((uint32_t)_GLIBCXX_USE_CXX11_ABI)
#else
#define H2_CXX11_ABI_ 0u
#endif
#if defined(__GLIBCXX__)
#define H2_STDLIB_ 1u
#elif defined(_LIBCPP_VERSION)
#define H2_STDLIB_ 2u
#else
#define H2_STDLIB_ 0u
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define H2_LITTLE_ENDIAN_ 0u
#else
#define H2_LITTLE_ENDIAN_ 1u
#endif

/* The signature of the translation unit that expands it (host and module each use it). */
#define H2_BUILD_SIGNATURE_INIT                                                                  \
  {                                                                                              \
    (uint32_t)sizeof(void*), H2_COMPILER_FAMILY_, H2_COMPILER_MAJOR_, H2_CXX11_ABI_, H2_STDLIB_, \
        H2_LITTLE_ENDIAN_                                                                        \
  }

/* The host's functions. The table is owned by the host and valid until shutdown returns.
 * Every function is called on the thread of the exchange it takes (config/log: any thread). */
typedef struct h2_host_api {
  uint32_t abi_major;
  uint32_t abi_minor;
  size_t struct_size; /* sizeof(h2_host_api) of the host: functions past it do not exist */

  /* ---- logging (any thread) ---- */
  void (*log)(const h2_host* host, int level, const char* message, size_t size);

  /* ---- config tree (any thread; nodes and strings valid until shutdown returns) ---- */
  int (*config_kind)(const h2_config* node);               /* h2_config_kind; NULL -> NULL */
  int (*config_bool)(const h2_config* node, int fallback); /* 1/0; fallback if not a bool */
  int64_t (*config_int)(const h2_config* node, int64_t fallback);
  h2_str (*config_string)(const h2_config* node);                     /* empty if not a string */
  size_t (*config_size)(const h2_config* node);                       /* list/map element count */
  const h2_config* (*config_at)(const h2_config* node, size_t index); /* NULL if out of range */
  h2_str (*config_key_at)(const h2_config* node, size_t index);       /* map keys */
  const h2_config* (*config_find)(const h2_config* node, const char* key, size_t key_size);
  /* file (view valid until shutdown), 1-based line and column; file empty if unknown. */
  void (*config_location)(const h2_config* node, h2_str* file, int* line, int* column);

  /* ---- exchange references ---- */
  void (*exchange_retain)(h2_exchange* ex);
  void (*exchange_release)(h2_exchange* ex);

  /* ---- request head (views valid while the module holds a reference) ---- */
  int (*version)(h2_exchange* ex); /* h2_http_version */
  h2_str (*request_field)(h2_exchange* ex, int field /* h2_request_field */);
  size_t (*header_count)(h2_exchange* ex);
  h2_header (*header_at)(h2_exchange* ex, size_t index);
  size_t (*trailer_count)(h2_exchange* ex); /* request trailers, after H2_READ_EOF */
  h2_header (*trailer_at)(h2_exchange* ex, size_t index);

  /* ---- request body: asks for the next chunk; fn called exactly once ---- */
  int (*read_body)(h2_exchange* ex, h2_read_fn fn, void* ctx);

  /* ---- respond (one of the three, once) ---- */
  /* The host copies the body once (use respond_with_shared to hand over ownership instead). */
  int (*respond_with_string)(h2_exchange* ex, const h2_response* head, const char* body,
                             size_t size);
  /* No copy: the host references body until it calls release(ctx) exactly once. */
  int (*respond_with_shared)(h2_exchange* ex, const h2_response* head, const char* body,
                             size_t size, h2_release_fn release, void* ctx);
  int (*respond_streaming)(h2_exchange* ex, const h2_response* head);

  /* ---- streaming body ---- */
  int (*write)(h2_exchange* ex, const char* data, size_t size); /* copies */
  /* No copy: release(ctx) exactly once, after the bytes were written or dropped. */
  int (*write_borrowed)(h2_exchange* ex, const char* data, size_t size, h2_release_fn release,
                        void* ctx);
  void (*flush)(h2_exchange* ex, h2_flush_fn fn, void* ctx); /* fn exactly once */
  int (*close_body)(h2_exchange* ex, const h2_header* trailers, size_t trailer_count);

  /* ---- the rest ---- */
  int (*send_informational)(h2_exchange* ex, const h2_response* head); /* 1xx, e.g. 103 */
  /* On H2_OK *pushed receives one reference to the pushed exchange (respond to it, release). */
  int (*push)(h2_exchange* ex, const h2_push_request* request, h2_exchange** pushed);
  void (*reset)(h2_exchange* ex, uint32_t error_code); /* RFC 9113 §7 code */
  int (*response_started)(h2_exchange* ex);            /* 1/0 */
  int (*closed)(h2_exchange* ex);                      /* 1/0 */
  /* fn exactly once: cancelled=1 on peer reset/disconnect, 0 when dropped otherwise. */
  void (*on_cancel)(h2_exchange* ex, h2_cancel_fn fn, void* ctx);
  /* fn exactly once, on the exchange's thread: fired=1 after delay_ms, 0 if the connection
   * went away first. */
  void (*schedule)(h2_exchange* ex, uint64_t delay_ms, h2_timer_fn fn, void* ctx);
  /* Reports a handler failure: logged; 500 if no response head was sent yet, else
   * RST_STREAM(INTERNAL_ERROR) (HTTP/1.1: connection closed). The connection goes on. */
  void (*fail)(h2_exchange* ex, const char* message, size_t size);

  /* ---- ABI 1.1: work handed to other threads ---- */
  /* On the exchange's thread. The poster holds one reference to ex until it is released.
   * NULL only when the host is out of memory. */
  h2_poster* (*poster_new)(h2_exchange* ex);
  /* Any thread. fn exactly once: later on the exchange's thread with run=1 (never inline), or
   * with run=0 once the event loop has stopped (possibly inline). The stream may have been
   * reset meanwhile: the task sees a closed exchange (closed() == 1) and answers nothing. */
  void (*poster_post)(h2_poster* poster, h2_task_fn fn, void* ctx);
  /* Any thread. Drops the handle; tasks already posted still run. The reference to the
   * exchange is released on the exchange's thread. */
  void (*poster_release)(h2_poster* poster);

  /* ---- ABI 1.3: requests upstream, through the host's HTTP/2 client ----
   * Every function on the thread of the exchange the request was opened from. Connections are
   * pooled per origin on that thread and reused; a request the upstream never processed
   * (REFUSED_STREAM, above a GOAWAY) is retried once on another connection when it had no
   * body. Response body backpressure: the host reads the next chunk only when asked
   * (upstream_read), and returns HTTP/2 flow-control credit to the upstream as chunks are
   * consumed. */
  /* Sends `request`. H2_OK: *out receives the handle (one reference) and fn is called later.
   * H2_UNSUPPORTED: this runtime has no client (the io_uring runtime). H2_INVALID: a bad
   * origin, method or field (nothing is sent, fn is not called, *out is NULL). */
  int (*upstream_open)(h2_exchange* ex, const h2_upstream_request* request,
                       h2_upstream_head_fn fn, void* ctx, h2_upstream** out);
  /* The final (or, during an H2_UPSTREAM_INFORMATIONAL call, the 1xx) head. 0 before. */
  int (*upstream_status)(h2_upstream* up);
  size_t (*upstream_header_count)(h2_upstream* up);
  h2_header (*upstream_header_at)(h2_upstream* up, size_t index); /* valid until release */
  /* Response body, one chunk per call (after H2_UPSTREAM_RESPONSE): fn exactly once with
   * H2_READ_CHUNK, H2_READ_EOF (trailers readable) or H2_READ_CANCELLED (reset, failure:
   * upstream_error). H2_INVALID while a read is pending or before the response. */
  int (*upstream_read)(h2_upstream* up, h2_read_fn fn, void* ctx);
  size_t (*upstream_trailer_count)(h2_upstream* up);
  h2_header (*upstream_trailer_at)(h2_upstream* up, size_t index);
  /* Request body (end_stream was 0): copies. Never refuses for lack of window: use flush. */
  int (*upstream_write)(h2_upstream* up, const char* data, size_t size);
  /* fn exactly once: H2_FLUSH_WRITTEN when the buffered request body is below the host's
   * watermark (write more), H2_FLUSH_CLOSED when the request ended first. */
  void (*upstream_flush)(h2_upstream* up, h2_flush_fn fn, void* ctx);
  /* Ends the request body, with trailers when given. */
  int (*upstream_end)(h2_upstream* up, const h2_header* trailers, size_t trailer_count);
  /* h2_upstream_error; *reason (when given) a text view valid until release. */
  int (*upstream_error)(h2_upstream* up, h2_str* reason);
  /* Drops the handle. A request still open is cancelled (RST_STREAM(CANCEL)); a head callback
   * not called yet is called with H2_UPSTREAM_FAILED (H2_UPSTREAM_CANCELLED), a pending read
   * with H2_READ_CANCELLED, possibly before this returns. */
  void (*upstream_release)(h2_upstream* up);
  /* 1 when the response ended with its head (END_STREAM on the final HEADERS: no body, no
   * trailers, e.g. a gRPC trailers-only answer), readable from H2_UPSTREAM_RESPONSE on; else 0.
   * A proxy relays such a head as a complete response. */
  int (*upstream_ended_with_head)(h2_upstream* up);
} h2_host_api;

/* Hooks return 0 on success; on failure non-zero and a NUL-terminated message in err
 * (at most err_size bytes including the NUL). */
/* ABI 1.2: the config keys a module accepts. The host checks config.yaml against them before
 * init / create_handler (at start-up, `h2host -t` and reload): an unknown key is refused with
 * its FILE:LINE:COL and the nearest declared key, a value of the wrong type likewise. A NULL
 * schema (or a module older than 1.2) leaves that config unchecked. */
typedef enum h2_config_key_type {
  H2_KEY_ANY = 0, /* any value */
  H2_KEY_STRING = 1,
  H2_KEY_INT = 2,
  H2_KEY_BOOL = 3,
  H2_KEY_LIST = 4,
  H2_KEY_MAP = 5
} h2_config_key_type;

typedef struct h2_config_key {
  const char* name;          /* a map key */
  h2_config_key_type type;
  const char* default_value; /* as text, for documentation and -t; NULL = none */
  const char* description;   /* one line */
} h2_config_key;

typedef struct h2_config_schema {
  const h2_config_key* keys; /* static storage: read until the module is unloaded */
  size_t count;
} h2_config_schema;

typedef struct h2_module_descriptor {
  uint32_t abi_major; /* H2_ABI_MAJOR the module was built with */
  uint32_t abi_minor;
  h2_build_signature build; /* H2_BUILD_SIGNATURE_INIT */
  const char* name;         /* unique among loaded modules; [a-z0-9_-]+ */
  const char* version;      /* free-form, e.g. "1.0.0" */

  /* Once, before anything else. api, host and config stay valid until shutdown returns.
   * *module_state is the module's (freed in shutdown). */
  int (*init)(const h2_host_api* api, const h2_host* host, const h2_config* config,
              void** module_state, char* err, size_t err_size);
  /* Per route; route_config valid until shutdown returns. *handler_state freed in
   * destroy_handler. */
  int (*create_handler)(void* module_state, const h2_config* route_config, void** handler_state,
                        char* err, size_t err_size);
  /* Per request. The module owns one reference to ex (release it when done). A non-zero
   * return is handled like api->fail(ex, err). Must not block. */
  int (*handle)(void* handler_state, h2_exchange* ex, char* err, size_t err_size);
  void (*destroy_handler)(void* handler_state);
  void (*shutdown)(void* module_state);

  /* ABI 1.2 (present when abi_minor >= 2). NULL = unchecked. */
  const h2_config_schema* module_config_schema; /* modules.config.NAME */
  const h2_config_schema* route_config_schema;  /* a route's config: */
} h2_module_descriptor;

/* The one export (H2_DESCRIPTOR_SYMBOL). */
typedef const h2_module_descriptor* (*h2_module_descriptor_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* H2_ABI_H */
