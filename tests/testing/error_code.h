// The ErrorCode a callable throws, for tests of error paths.
#pragma once

#include <gtest/gtest.h>

#include "core/error.h"

namespace haip::testing {

// The code of the haip::Error that `fn` throws; records a test failure and
// returns kInternal when it throws nothing.
template <typename Fn>
ErrorCode CodeOf(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "nothing thrown";
  return ErrorCode::kInternal;
}

}  // namespace haip::testing
