// What tests ask of a call that should fail: the code of the scanline::Error it throws.
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "core/error.h"

namespace scanline {

// The code of the Error `fn` throws. Records a test failure, and returns kInternal, when it
// throws none (any other exception propagates).
inline ErrorCode CodeOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "expected an Error";
  return ErrorCode::kInternal;
}

}  // namespace scanline
