// The one translation unit that compiles Asio's and Beast's implementation for the whole build
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are public definitions of
// h2_http1): every other TU only sees declarations, which keeps the 2-core build short, and no
// function of Beast's (its error categories among them) exists twice. Beast's parser needs
// both; the host links this library and adds only Asio SSL's (host/asio_impl.cc).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
