#include "security/audit.h"

#include <gtest/gtest.h>

#include <thread>

#include "backend_fixture.h"
#include "core/error.h"

namespace haip::security {
namespace {

AuditRecord Rec(const std::string& action, const std::string& user = "dr.li") {
  AuditRecord r;
  r.request_id = "req-" + action;
  r.username = user;
  r.roles = "clinician";
  r.action = action;
  r.method = "GET";
  r.path = "/api/x";
  r.status = 200;
  r.outcome = "success";
  r.detail = R"({"k":"值"})";
  return r;
}

class AuditTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    log_ = std::make_unique<AuditLog>(*db_, 64);
  }
  void Fill(int n) {
    for (int i = 0; i < n; ++i) log_->AppendSync(Rec("http.request." + std::to_string(i)));
  }
  // Tampering needs the append-only triggers gone, as an attacker with
  // database access would do first.
  void DropGuards() {
    if (db_->dialect() == storage::Dialect::kSqlite) {
      db_->ExecuteScript("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete");
    } else {
      db_->ExecuteScript("DROP TRIGGER audit_log_no_change ON audit_log");
    }
  }
  std::unique_ptr<AuditLog> log_;
};

TEST_P(AuditTest, ChainsRecordsAndVerifies) {
  Fill(20);
  auto v = log_->Verify();
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.records, 20);
  auto rows = log_->Query({.limit = 100, .ascending = true});
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_EQ(rows[0].prev_hash, kAuditGenesisHash);
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].id, rows[i - 1].id + 1);
    EXPECT_EQ(rows[i].prev_hash, rows[i - 1].hash);
    EXPECT_EQ(ComputeAuditHash(rows[i]), rows[i].hash);
  }
  EXPECT_EQ(v.head_hash, rows.back().hash);
}

TEST_P(AuditTest, TheDatabaseRefusesUpdatesAndDeletes) {
  Fill(3);
  EXPECT_THROW(db_->Execute("UPDATE audit_log SET username = 'x' WHERE id = 2"), Error);
  EXPECT_THROW(db_->Execute("DELETE FROM audit_log WHERE id = 2"), Error);
  EXPECT_TRUE(log_->Verify().ok);
}

TEST_P(AuditTest, AnEditedRecordIsNamed) {
  Fill(10);
  DropGuards();
  db_->Execute("UPDATE audit_log SET username = 'someone-else' WHERE id = 6");
  auto v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_id, 6);
}

TEST_P(AuditTest, AnEditedAndRehashedRecordBreaksTheNextLink) {
  Fill(10);
  DropGuards();
  auto rec = log_->Query({.before_id = 5, .limit = 1});  // record 4
  ASSERT_EQ(rec.size(), 1u);
  rec[0].detail = R"({"k":"forged"})";
  db_->Execute("UPDATE audit_log SET detail = ?, hash = ? WHERE id = 4", {rec[0].detail, ComputeAuditHash(rec[0])});
  auto v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_id, 5);
}

TEST_P(AuditTest, ADeletedRecordIsNamed) {
  Fill(10);
  DropGuards();
  db_->Execute("DELETE FROM audit_log WHERE id = 4");
  auto v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_id, 4);
  EXPECT_NE(v.reason.find("missing"), std::string::npos) << v.reason;
}

TEST_P(AuditTest, AnInsertedRecordIsNamed) {
  Fill(10);
  DropGuards();
  // Make room at 5 by moving the later records up, then insert a forgery there.
  for (int id = 10; id >= 5; --id) db_->Execute("UPDATE audit_log SET id = ? WHERE id = ?", {id + 1, id});
  AuditRecord fake = Rec("user.create", "intruder");
  db_->Execute(
      "INSERT INTO audit_log (id, ts, request_id, user_id, username, roles, action, method, path, status, "
      "outcome, patient, detail, prev_hash, hash) VALUES (5, 1, 'x', NULL, 'intruder', '', 'user.create', "
      "'POST', '/api/users', 201, 'success', '', '{}', ?, ?)",
      {std::string(64, '0'), std::string(64, 'f')});
  auto v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_id, 5);
}

TEST_P(AuditTest, AStrayRecordOutsideTheChainIsNamed) {
  Fill(5);
  DropGuards();
  db_->Execute(
      "INSERT INTO audit_log (id, ts, request_id, user_id, username, roles, action, method, path, status, "
      "outcome, patient, detail, prev_hash, hash) VALUES (900, 1, 'x', NULL, 'i', '', 'a', 'GET', '/', 200, "
      "'success', '', '{}', 'p', 'h')");
  auto v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_id, 900);
}

TEST_P(AuditTest, ConcurrentAppendersKeepOneUnbrokenChain) {
  std::vector<std::thread> threads;
  std::atomic<int> committed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        log_->Append(Rec("t" + std::to_string(t)), [&](bool ok) {
          if (ok) committed++;
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  // A second writer on the same database, as the CLI is beside a server.
  AuditLog other(*db_, 8);
  for (int i = 0; i < 20; ++i) other.AppendSync(Rec("cli"));
  log_.reset();  // drains the queue
  EXPECT_EQ(committed.load(), 200);
  AuditLog reader(*db_, 1);
  auto v = reader.Verify();
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.records, 220);
}

TEST_P(AuditTest, FiltersAndPages) {
  for (int i = 0; i < 30; ++i) log_->AppendSync(Rec(i % 3 == 0 ? "user.create" : "http.request", i % 2 ? "a" : "b"));
  EXPECT_EQ(log_->Query({.action = "user.create", .limit = 100}).size(), 10u);
  EXPECT_EQ(log_->Query({.action = "user.", .limit = 100}).size(), 10u);
  EXPECT_EQ(log_->Query({.username = "a", .limit = 100}).size(), 15u);
  auto page1 = log_->Query({.limit = 12});
  ASSERT_EQ(page1.size(), 12u);
  EXPECT_EQ(page1[0].id, 30);
  auto page2 = log_->Query({.before_id = page1.back().id, .limit = 12});
  EXPECT_EQ(page2[0].id, page1.back().id - 1);
  EXPECT_EQ(log_->Query({.text = "值", .limit = 100}).size(), 30u);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest, ::testing::Values("sqlite", "postgresql"), BackendName);

}  // namespace
}  // namespace haip::security
