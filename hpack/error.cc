#include "hpack/error.h"

namespace h2::hpack {

std::string_view error_name(Error e) {
  switch (e) {
    case Error::kOk:
      return "kOk";
    case Error::kIntegerOverflow:
      return "kIntegerOverflow";
    case Error::kIndexZero:
      return "kIndexZero";
    case Error::kIndexOutOfRange:
      return "kIndexOutOfRange";
    case Error::kStringTooLong:
      return "kStringTooLong";
    case Error::kHuffmanPaddingTooLong:
      return "kHuffmanPaddingTooLong";
    case Error::kHuffmanPaddingNotOnes:
      return "kHuffmanPaddingNotOnes";
    case Error::kHuffmanEos:
      return "kHuffmanEos";
    case Error::kTableSizeUpdateNotAtStart:
      return "kTableSizeUpdateNotAtStart";
    case Error::kTooManyTableSizeUpdates:
      return "kTooManyTableSizeUpdates";
    case Error::kTableSizeAboveLimit:
      return "kTableSizeAboveLimit";
    case Error::kTruncatedBlock:
      return "kTruncatedBlock";
    case Error::kHeaderListTooLarge:
      return "kHeaderListTooLarge";
    case Error::kTooManyFields:
      return "kTooManyFields";
    case Error::kMissingTableSizeUpdate:
      return "kMissingTableSizeUpdate";
  }
  return "kUnknown";
}

bool is_connection_error(Error e) {
  return e != Error::kOk && e != Error::kHeaderListTooLarge && e != Error::kTooManyFields;
}

}  // namespace h2::hpack
