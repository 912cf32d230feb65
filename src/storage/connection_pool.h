// A bounded pool of connections shared by the threads using one Database.
// Connections are created on demand up to the pool size; when all are lent
// out, Borrow() waits up to a timeout so a stuck caller shows up as
// Error(kUnavailable) instead of a silent hang.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace haip::storage {

template <typename Connection>
class ConnectionPool {
 public:
  using Factory = std::function<std::unique_ptr<Connection>()>;

  // Returns its connection to the pool when destroyed, unless discarded.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->Return(std::move(conn_));
    }

    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }
    // Drops a connection whose state is unknown (e.g. a failed ROLLBACK), so
    // the next borrower gets a fresh one.
    void Discard() {
      if (pool_ != nullptr) std::exchange(pool_, nullptr)->Drop(std::move(conn_));
    }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  ConnectionPool(int capacity, std::chrono::milliseconds wait_timeout, Factory factory)
      : capacity_(capacity < 1 ? 1 : capacity),
        wait_timeout_(wait_timeout),
        factory_(std::move(factory)) {}

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  Lease Borrow() {
    std::unique_lock lock(mu_);
    if (!available_.wait_for(lock, wait_timeout_,
                             [&] { return !idle_.empty() || created_ < capacity_; })) {
      throw Error(ErrorCode::kUnavailable, "storage: all " + std::to_string(capacity_) +
                                               " connections stayed busy for " +
                                               std::to_string(wait_timeout_.count()) + " ms");
    }
    if (!idle_.empty()) {
      // Most recently returned first: its statement cache is the warmest.
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++created_;
    lock.unlock();
    try {
      return Lease(this, factory_());
    } catch (...) {
      lock.lock();
      --created_;
      available_.notify_one();
      throw;
    }
  }

  int capacity() const { return capacity_; }

 private:
  void Return(std::unique_ptr<Connection> conn) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(conn));
    }
    available_.notify_one();
  }

  void Drop(std::unique_ptr<Connection> conn) {
    conn.reset();
    {
      std::lock_guard lock(mu_);
      --created_;
    }
    available_.notify_one();
  }

  const int capacity_;
  const std::chrono::milliseconds wait_timeout_;
  const Factory factory_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int created_ = 0;
};

}  // namespace haip::storage
