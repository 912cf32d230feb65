// Detects a Transaction() started from inside another one on the same
// Database and thread. Without it the nested call would wait for the outer
// transaction's write lock (or its only pooled connection) until it timed out.
#pragma once

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace haip::storage {

class TransactionGuard {
 public:
  explicit TransactionGuard(const void* database) : database_(database) {
    if (std::find(Active().begin(), Active().end(), database) != Active().end()) {
      throw Error(ErrorCode::kInternal,
                  "storage: Transaction() called inside a transaction on the same database; "
                  "use the Session passed to the outer one");
    }
    Active().push_back(database);
  }
  TransactionGuard(const TransactionGuard&) = delete;
  TransactionGuard& operator=(const TransactionGuard&) = delete;
  ~TransactionGuard() { Active().erase(std::find(Active().begin(), Active().end(), database_)); }

 private:
  static std::vector<const void*>& Active() {
    thread_local std::vector<const void*> active;
    return active;
  }

  const void* database_;
};

}  // namespace haip::storage
