// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// ASSERT_OK(expr): the Status-returning expression succeeded, or the test stops and prints the
// expression with the status.

#include <gtest/gtest.h>

#include "parley/util/status.h"

#define ASSERT_OK(expr)                                                \
  do {                                                                 \
    const ::parley::Status& status_ = (expr);                          \
    ASSERT_TRUE(status_.ok()) << #expr << ": " << status_.to_string(); \
  } while (false)
