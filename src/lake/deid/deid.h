// De-identification of FHIR R4 resources (JSON) for research exports: the
// profile "haip-safe-harbor-cn" covers HIPAA Safe Harbor's 18 identifiers and
// Chinese PII (names incl. compound surnames, resident ID numbers, mobile and
// landline numbers, addresses below province level). docs/deid.md lists what
// happens to every element.
//
// Use: construct one Deidentifier per export with the site's secret key,
// feed it every Patient (and Practitioner/RelatedPerson) through Learn(),
// then Apply() every resource. Apply() and ScrubText() are const and safe to
// call from many threads at once; Learn()/Forget() may run concurrently with
// them (they take a writer lock). Everything is a pure function of (key,
// profile, learned resources, input): the same key gives the same
// pseudonyms and date shifts in every export, a different key unrelated ones.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace haip::lake::deid {

struct DeidProfile {
  std::string name = "haip-safe-harbor-cn";
  int version = 1;
  // Per-patient date shift in days: uniform over [-max, -1] u [1, max].
  int max_shift_days = 365;
  // Patients older than this at reference_date are grouped as "90 or older".
  int age_cap_years = 89;
  // "YYYY-MM-DD" at which the age rule is evaluated (the export date);
  // empty means the UTC date when the Deidentifier is constructed.
  std::string reference_date;
  // Leading postal-code digits kept (0 drops postalCode).
  int postal_prefix_digits = 3;
  // Hex characters of HMAC kept in resource-id pseudonyms (max 64).
  int id_hex_chars = 32;
  // Identifier.value pseudonyms: prefix + hex characters of HMAC.
  std::string identifier_prefix = "deid-";
  int identifier_hex_chars = 20;
  // Also remove names written without a label or honorific (a common
  // surname followed by two common given-name characters). Catches more,
  // at the price of occasionally masking an ordinary word.
  bool scrub_unlabelled_names = true;

  // The audit-record line, "deid profile haip-safe-harbor-cn v1".
  std::string Label() const;
};

// What the scrubber knows about one patient: strings to remove verbatim
// wherever they appear in that patient's free text, and the date shift.
struct PatientContext {
  std::string patient_id;  // original Patient.id
  int shift_days = 0;      // never 0
  bool over_age_cap = false;
  std::vector<std::string> names;        // full names, given names of >= 2 characters
  std::vector<std::string> identifiers;  // Identifier.value of the patient
  std::vector<std::string> telecoms;     // phone numbers, e-mail addresses
  std::vector<std::string> addresses;    // address text, lines, city+district
};

class Deidentifier {
 public:
  // `key` is the site secret (at least 16 bytes; see LoadOrCreateKey).
  // Throws Error(kBadRequest) for a short key or an invalid profile.
  Deidentifier(std::string key, DeidProfile profile = {});
  ~Deidentifier();
  Deidentifier(const Deidentifier&) = delete;
  Deidentifier& operator=(const Deidentifier&) = delete;

  // Remembers a Patient's names, identifiers, telecoms and address so they
  // are scrubbed from that patient's free text, and adds the full name to
  // the names scrubbed from every text. Learning the same patient again
  // replaces its context. Other resource types are ignored.
  void LearnPatient(const Json& patient);
  // LearnPatient for Patient; for Practitioner, RelatedPerson and Person
  // adds their names to the names scrubbed from every text. Other types are
  // ignored, so an exporter can pass every resource of a first pass.
  void Learn(const Json& resource);
  // Drops a learned patient context (for streaming exports that are done
  // with a patient); names stay in the global list.
  void ForgetPatient(std::string_view patient_id);

  // The de-identified copy of `resource`. Resources of a patient (Patient
  // itself, or anything whose subject/patient references a Patient) use that
  // patient's context and shift; if the Patient was not learned, the context
  // is derived from the reference alone (shift from the id, name from the
  // reference's display). Throws Error(kBadRequest) if `resource` is not an
  // object with a string resourceType.
  Json Apply(const Json& resource) const;

  // Scrubs free text: placeholders ([姓名], [身份证号], [电话], [邮箱], [网址],
  // [IP], [地址], [病案号], [医保号], [编号], [号码]) for identifiers, ages over
  // the cap written as "≥90", and dates shifted by the context's shift (by
  // none when ctx is null: dates are then left as written).
  std::string ScrubText(std::string_view text, const PatientContext* ctx) const;

  // The learned context of a patient, or one derived from the id alone.
  PatientContext ContextFor(std::string_view patient_id) const;
  // Pseudonyms, as Apply writes them.
  std::string PseudonymId(std::string_view resource_type, std::string_view id) const;
  std::string PseudonymIdentifier(std::string_view system, std::string_view value) const;
  int ShiftDays(std::string_view patient_id) const;

  const DeidProfile& profile() const;
  // The profile as JSON for audit records: name, version, label, rules,
  // parameters and a fingerprint of the key (never the key).
  Json ProfileDescription() const;

  // Opaque; declared public only so implementation helpers can name it.
  struct State;

 private:
  std::unique_ptr<State> state_;
};

// Reads the key file (hex or raw bytes, surrounding whitespace trimmed), or
// creates it with 32 random bytes in hex and mode 0600 (creating parent
// directories with mode 0700) when it does not exist. Throws
// Error(kInternal) when the file cannot be read or written, kBadRequest when
// it holds fewer than 16 bytes.
std::string LoadOrCreateKey(const std::filesystem::path& path);

}  // namespace haip::lake::deid
