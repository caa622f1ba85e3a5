// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/error_code.h"

namespace parley {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
#define PARLEY_ERROR_NAME(name, number, short_name, description) \
  case ErrorCode::name:                                          \
    return short_name;
    PARLEY_ERROR_CODES(PARLEY_ERROR_NAME)
#undef PARLEY_ERROR_NAME
  }
  return "unknown";
}

std::string_view error_code_description(ErrorCode code) {
  switch (code) {
#define PARLEY_ERROR_DESCRIPTION(name, number, short_name, description) \
  case ErrorCode::name:                                                 \
    return description;
    PARLEY_ERROR_CODES(PARLEY_ERROR_DESCRIPTION)
#undef PARLEY_ERROR_DESCRIPTION
  }
  return "unknown error";
}

std::optional<ErrorCode> error_code_from_number(std::uint32_t number) {
  switch (number) {
#define PARLEY_ERROR_FROM_NUMBER(name, value, short_name, description) \
  case value:                                                          \
    return ErrorCode::name;
    PARLEY_ERROR_CODES(PARLEY_ERROR_FROM_NUMBER)
#undef PARLEY_ERROR_FROM_NUMBER
  }
  return std::nullopt;
}

}  // namespace parley
