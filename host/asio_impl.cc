// The one translation unit that compiles Asio SSL's implementation (BOOST_ASIO_SEPARATE_COMPILATION
// is set for h2_host_lib). Asio's and Beast's own are compiled once in http1/boost_impl.cc.
#include <boost/asio/ssl/impl/src.hpp>
