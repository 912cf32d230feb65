// In-memory form of one generated patient and of the run-wide context
// (hospital, staff, reference date, identity space). A PatientRecord lives only
// while its patient is built and serialized, which keeps memory independent of
// the number of patients.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "synth/tables.h"

namespace haip::synth {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
inline constexpr int kDoctorsPerDept = 6;

struct LabResult {
  Lab lab;
  double value;  // already rounded to the lab's decimals
  int64_t time;  // specimen time, minutes (see dates.h)
};

struct VitalSigns {
  int64_t time;
  int systolic, diastolic, heart_rate, resp_rate, spo2;
  double temperature;
  bool anthropometrics;  // weight, height and BMI were measured too
  double weight;
  int height;
};

struct MedOrder {
  Drug drug;
  int64_t time;
  int condition;  // index into PatientRecord::conditions
  bool active;
};

struct ProcRecord {
  Proc proc;
  int64_t time;
  int condition;
};

struct NoteRecord {
  NoteType type;
  int64_t time;
  std::string text;
};

enum class EncClass : uint8_t { kAmbulatory, kInpatient, kEmergency };

struct EncounterRecord {
  EncClass cls;
  Dept dept;
  int64_t start, end;
  int practitioner;  // index within the department's doctors
  bool from_emergency;
  std::vector<int> conditions;  // primary first
  std::vector<LabResult> labs;
  std::vector<VitalSigns> vitals;
  std::vector<MedOrder> meds;
  std::vector<ProcRecord> procs;
  std::vector<NoteRecord> notes;
};

struct ConditionRecord {
  Dx dx;
  int64_t onset;
  int64_t recorded;
  int encounter;   // where it was first diagnosed
  int64_t abated;  // kNever while active
};

struct PatientRecord {
  uint64_t index = 0;
  Sex sex = Sex::kMale;
  std::string family, given;
  int64_t birth_day = 0;
  std::string id_card;
  std::string mobile;
  size_t region = 0;  // household registration and home address
  std::string address_line;
  int height_cm = 0;
  double weight_kg = 0;
  std::vector<ConditionRecord> conditions;
  std::vector<EncounterRecord> encounters;
  // Filled by SortEncounters(): encounter indices in time order and each
  // encounter's/condition's position in output order (used for ids).
  std::vector<int> encounter_order;
  std::vector<int> encounter_rank;
  std::vector<int> condition_rank;
};

struct Person {
  std::string family, given;
  Sex sex;
  const char* title;
  std::string license;
};

// Assigns every patient index a distinct (birth date, region, sequence) so
// that resident ID numbers never collide, while birth dates follow an
// age mix typical of a general hospital (more middle-aged and elderly).
class IdentitySpace {
 public:
  IdentitySpace(uint64_t seed, int64_t ref_day);
  uint64_t capacity() const { return capacity_; }
  struct Identity {
    int64_t birth_day;
    size_t region;
    int sequence;  // 1..996; odd = male, even = female (GB 11643)
  };
  Identity Assign(uint64_t index) const;

 private:
  uint64_t Permute(uint64_t x) const;

  int64_t first_day_ = 0;
  std::vector<uint64_t> cumulative_;  // slots before each day
  uint64_t per_day_ = 0;              // regions * sequences
  uint64_t block_ = 0;                // per_day_ / kMaxWeight
  uint64_t capacity_ = 0;
  uint64_t multiplier_ = 1;
  int half_bits_ = 1;
  std::array<uint64_t, 4> keys_{};
  uint64_t seed_ = 0;
};

struct Context {
  uint64_t seed = 0;
  std::string seed_text;
  int64_t ref_day = 0;  // "today" of the synthetic hospital
  std::string hospital_name;
  std::string hospital_code;
  size_t hospital_region = 0;
  std::string hospital_address_line;
  std::array<std::array<Person, kDoctorsPerDept>, kDeptCount> doctors;
  IdentitySpace identities;

  explicit Context(uint64_t seed);
};

// 'H', 'L' or 'N' against the sex-specific reference interval.
char Interpret(const MeasureDef& def, Sex sex, double value);
// Builds patient `index` deterministically from (ctx.seed, index).
void BuildPatient(const Context& ctx, uint64_t index, PatientRecord& out);

}  // namespace haip::synth
