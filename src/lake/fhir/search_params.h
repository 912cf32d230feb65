// FHIR R4 search parameters that HAIP indexes, and the extraction of index
// rows from a resource. A parameter has a type and one or more element paths
// ("effectiveDateTime|effectivePeriod"); each path is dotted, and arrays are
// walked at every step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace haip::lake {

enum class ParamType { kToken, kReference, kDate, kQuantity, kString };

struct SearchParam {
  std::string_view name;
  ParamType type;
  std::string_view paths;  // '|'-separated element paths
};

// The resource types HAIP validates and indexes fully; other types are stored
// and searchable by _id, _lastUpdated and patient.
const std::vector<std::string_view>& SupportedResourceTypes();
bool IsSupportedType(std::string_view type);
// Any syntactically valid FHIR resource type name (capitalised letters).
bool IsValidTypeName(std::string_view type);
// One of the 146 resource types of FHIR R4 (4.0.1).
bool IsR4ResourceType(std::string_view type);

// Search parameters of a type (empty for types without definitions).
const std::vector<SearchParam>& ParamsFor(std::string_view type);
const SearchParam* FindParam(std::string_view type, std::string_view name);

struct TokenRow {
  std::string param, system, code;
};
struct ReferenceRow {
  std::string param, target_type, target_id;
};
struct DateRow {
  std::string param;
  int64_t lo, hi;  // [lo, hi) in ms since epoch, from the value's precision
};
struct QuantityRow {
  std::string param;
  double value;
  std::string system, code;
};
struct StringRow {
  std::string param, value;  // value normalised for search (lower-case ASCII)
};

struct IndexRows {
  std::vector<TokenRow> tokens;
  std::vector<ReferenceRow> references;
  std::vector<DateRow> dates;
  std::vector<QuantityRow> quantities;
  std::vector<StringRow> strings;
  std::string patient;  // the patient compartment owner id, "" if none
};

IndexRows ExtractIndex(const Json& resource);

// The id of the patient a resource belongs to: a Patient's own id, else the
// Patient its `subject` or `patient` references; "" for none.
std::string PatientIdOf(const Json& resource);

// The [lo, hi) range of a FHIR date/dateTime/instant at its precision
// ("2020" covers the year). Times without a zone are taken as UTC. nullopt
// for malformed values.
std::optional<std::pair<int64_t, int64_t>> DateRange(std::string_view value);

// Lower-cases ASCII and trims; used for string search on both sides.
std::string NormalizeString(std::string_view s);

// "Patient/123" -> {"Patient","123"}; nullopt for other forms.
std::optional<std::pair<std::string, std::string>> SplitReference(std::string_view reference);

// Walks a dotted path through objects and arrays, collecting the values.
void CollectPath(const Json& node, std::string_view path, std::vector<const Json*>& out);

}  // namespace haip::lake
