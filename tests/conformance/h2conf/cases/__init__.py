"""Every case module; importing this package registers all cases in section order."""

from . import (preface, framing, hpack_errors, stream_states, identifiers, flow_control,  # noqa
               error_handling, extensibility, data_headers, priority_rst, settings,
               ping_goaway, continuation, http_messages, generic)
