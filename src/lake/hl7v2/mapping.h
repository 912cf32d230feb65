// HL7 v2 -> FHIR R4 JSON. Mapping is a pure function of the message bytes
// (plus options): the same message always yields the same resources with the
// same ids, so re-sending a message re-ingests it idempotently.
//
// Supported: ADT A01/A02/A03/A04/A08 (Patient + Encounter), ADT A40 (Patient +
// merge instructions), ORU R01 (Patient + DiagnosticReport + Observation),
// ORM O01 and OML O21 (Patient + ServiceRequest). Other message types are
// accepted (AA) with no resources; the caller keeps the raw message.
// See docs/hl7v2.md for the field-by-field mapping.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "lake/hl7v2/ack.h"
#include "lake/hl7v2/message.h"

namespace haip::lake::hl7v2 {

struct MappingOptions {
  // UTC offset given to timestamps that carry a time of day but no zone
  // (FHIR requires one once a time is present). Form "+08:00" or "Z".
  std::string default_utc_offset = "+08:00";
};

// ADT A40: the patient `merged_patient_id` (from MRG-1) is merged into
// `surviving_patient_id` (from PID-3); both are FHIR Patient ids as produced
// by this mapping. References to the merged patient should be moved to the
// surviving one and the merged Patient marked inactive.
struct MergeInstruction {
  std::string surviving_patient_id;
  std::string merged_patient_id;
};

struct MappingResult {
  AckCode ack = AckCode::kAA;
  std::string error;         // why, for AE/AR ("PID-3 patient identifier missing")
  std::string message_type;  // "ADT^A01"; "" when MSH-9 could not be read
  std::string control_id;    // MSH-10
  std::string raw_sha256;    // hex SHA-256 of the raw bytes
  std::string source;        // "urn:haip:hl7v2:" + raw_sha256, also in each meta.source
  bool mapped = false;       // the type is one this mapping supports
  // ADT messages are the authority on demographics; the Patient that ORU,
  // ORM and OML produce carries only what their PID holds, so a store should
  // create it when absent rather than overwrite a fuller one.
  bool demographics_authoritative = false;
  // Each with resourceType, id and meta.source; references between them use
  // "Type/id". Empty unless ack is AA.
  std::vector<Json> resources;
  std::vector<MergeInstruction> merges;  // ADT A40, one per PID/MRG pair
};

// Maps a parsed message. Never throws for message content: problems come back
// as ack AE with error naming the field.
MappingResult MapToFhir(const Message& message, const MappingOptions& options = {});

// Parses and maps raw bytes: input that is not HL7 comes back as AR with the
// parser's error. Never throws for content.
MappingResult MapRawToFhir(std::string_view raw, const MappingOptions& options = {});

// The ACK to send for raw once mapped (and stored) as result says.
std::string AckFor(std::string_view raw, const MappingResult& result,
                   const AckOptions& options = {});

// Deterministic FHIR id (32 lowercase hex characters) for a resource of type
// identified by key within the sending facility. Exposed so the store can
// compute the id of a patient it is told about by other means.
std::string ResourceId(std::string_view resource_type, std::string_view facility,
                       std::string_view key);

// HL7 DTM/TS (YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]) -> FHIR dateTime with
// the same precision; seconds are added when minutes are given (FHIR needs
// them with a time) and default_utc_offset when no zone is. "" when invalid.
std::string HL7TimeToFhir(std::string_view ts, std::string_view default_utc_offset = "+08:00");
// As above, cut to a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD).
std::string HL7TimeToFhirDate(std::string_view ts);

// Whether a unit string is valid UCUM syntax over the common atoms
// (metric units with prefixes, %, [IU], mm[Hg], 10*N, {annotations}, ...).
bool IsUcumUnit(std::string_view unit);

}  // namespace haip::lake::hl7v2
