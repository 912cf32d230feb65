#include "synth/fhir_writer.h"

#include <charconv>
#include <cstdio>
#include <string_view>
#include <utility>

#include "synth/dates.h"
#include "synth/generator.h"
#include "synth/json_writer.h"
#include "synth/notes.h"

namespace haip::synth {

namespace {

constexpr std::string_view kLoinc = "http://loinc.org";
constexpr std::string_view kUcum = "http://unitsofmeasure.org";
constexpr std::string_view kSnomed = "http://snomed.info/sct";
constexpr std::string_view kIcd10 = "http://hl7.org/fhir/sid/icd-10";
constexpr std::string_view kIcd9Cm = "http://hl7.org/fhir/sid/icd-9-cm";
constexpr std::string_view kAtc = "http://www.whocc.no/atc";
constexpr std::string_view kV20203 = "http://terminology.hl7.org/CodeSystem/v2-0203";
constexpr std::string_view kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr std::string_view kParticipationType =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
constexpr std::string_view kDiagnosisRole = "http://terminology.hl7.org/CodeSystem/diagnosis-role";
constexpr std::string_view kAdmitSource = "http://terminology.hl7.org/CodeSystem/admit-source";
constexpr std::string_view kDischargeDisposition =
    "http://terminology.hl7.org/CodeSystem/discharge-disposition";
constexpr std::string_view kConditionClinical =
    "http://terminology.hl7.org/CodeSystem/condition-clinical";
constexpr std::string_view kConditionVerStatus =
    "http://terminology.hl7.org/CodeSystem/condition-ver-status";
constexpr std::string_view kConditionCategory =
    "http://terminology.hl7.org/CodeSystem/condition-category";
constexpr std::string_view kObservationCategory =
    "http://terminology.hl7.org/CodeSystem/observation-category";
constexpr std::string_view kInterpretation =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
constexpr std::string_view kMedRequestCategory =
    "http://terminology.hl7.org/CodeSystem/medicationrequest-category";
constexpr std::string_view kOrganizationType =
    "http://terminology.hl7.org/CodeSystem/organization-type";
constexpr std::string_view kLocationPhysicalType =
    "http://terminology.hl7.org/CodeSystem/location-physical-type";
constexpr std::string_view kBcp47 = "urn:ietf:bcp:47";

// ------------------------------------------------------------- helpers

void Begin(JsonWriter& w, std::string_view type) {
  w.BeginObject();
  w.Key("resourceType");
  w.String(type);
}

void End(JsonWriter& w, ResourceBuffers& out, ResourceType type) {
  w.EndObject();
  w.out() += '\n';
  ++out.counts[type];
}

void Coding(JsonWriter& w, std::string_view system, std::string_view code,
            std::string_view display) {
  w.BeginObject();
  w.KV("system", system);
  w.KV("code", code);
  if (!display.empty()) w.KV("display", display);
  w.EndObject();
}

// {"coding":[{system, code, display}], "text": text}
void Concept(JsonWriter& w, std::string_view key, std::string_view system, std::string_view code,
             std::string_view display, std::string_view text = {}) {
  if (!key.empty()) w.Key(key);
  w.BeginObject();
  w.Key("coding");
  w.BeginArray();
  Coding(w, system, code, display);
  w.EndArray();
  if (!text.empty()) w.KV("text", text);
  w.EndObject();
}

// A CodeableConcept as the single element of an array.
void ConceptList(JsonWriter& w, std::string_view key, std::string_view system,
                 std::string_view code, std::string_view display) {
  w.Key(key);
  w.BeginArray();
  Concept(w, {}, system, code, display);
  w.EndArray();
}

void DateTime(JsonWriter& w, std::string_view key, int64_t minute) {
  w.Key(key);
  w.BeginRawString();
  AppendDateTime(w.out(), minute);
  w.EndRawString();
}

void Date(JsonWriter& w, std::string_view key, int64_t day) {
  w.Key(key);
  w.BeginRawString();
  AppendDate(w.out(), day);
  w.EndRawString();
}

void Quantity(JsonWriter& w, std::string_view key, double value, int decimals,
              std::string_view unit, std::string_view ucum) {
  w.Key(key);
  w.BeginObject();
  w.Key("value");
  w.Decimal(value, decimals);
  w.KV("unit", unit);
  w.KV("system", kUcum);
  w.KV("code", ucum);
  w.EndObject();
}

void Interpretation(JsonWriter& w, char flag) {
  w.Key("interpretation");
  w.BeginArray();
  switch (flag) {
    case 'H':
      Concept(w, {}, kInterpretation, "H", "High", "偏高");
      break;
    case 'L':
      Concept(w, {}, kInterpretation, "L", "Low", "偏低");
      break;
    default:
      Concept(w, {}, kInterpretation, "N", "Normal", "正常");
      break;
  }
  w.EndArray();
}

void ReferenceRange(JsonWriter& w, const MeasureDef& def, Sex sex) {
  if (!def.has_low && !def.has_high) return;
  double low = sex == Sex::kMale ? def.low_m : def.low_f;
  double high = sex == Sex::kMale ? def.high_m : def.high_f;
  w.Key("referenceRange");
  w.BeginArray();
  w.BeginObject();
  if (def.has_low) Quantity(w, "low", low, def.decimals, def.unit, def.ucum);
  if (def.has_high) Quantity(w, "high", high, def.decimals, def.unit, def.ucum);
  w.EndObject();
  w.EndArray();
}

// Resource ids are "<prefix>-<seed>[-<patient>][-<n>]"; ids and references
// are assembled from parts so no temporary strings are allocated.
class Ids {
 public:
  Ids(std::string_view seed, uint64_t patient) {
    base_ = seed;
    base_ += '-';
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, patient);
    base_.append(buf, r.ptr);
  }
  const std::string& base() const { return base_; }

 private:
  std::string base_;
};

std::string_view Num(char (&buf)[24], int64_t n) {
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  return {buf, static_cast<size_t>(r.ptr - buf)};
}

// "Type/prefix-base-n" (n < 0: no suffix).
void RefString(JsonWriter& w, std::string_view type, std::string_view prefix, std::string_view base,
               int64_t n) {
  w.BeginRawString();
  std::string& o = w.out();
  o += type;
  o += '/';
  o += prefix;
  o += base;
  if (n >= 0) {
    char buf[24];
    o += '-';
    o += Num(buf, n);
  }
  w.EndRawString();
}

void Ref(JsonWriter& w, std::string_view key, std::string_view type, std::string_view prefix,
         std::string_view base, int64_t n, std::string_view display = {}) {
  if (!key.empty()) w.Key(key);
  w.BeginObject();
  w.Key("reference");
  RefString(w, type, prefix, base, n);
  if (!display.empty()) w.KV("display", display);
  w.EndObject();
}

void Id(JsonWriter& w, std::string_view prefix, std::string_view base, int64_t n) {
  w.Key("id");
  w.BeginRawString();
  std::string& o = w.out();
  o += prefix;
  o += base;
  if (n >= 0) {
    char buf[24];
    o += '-';
    o += Num(buf, n);
  }
  w.EndRawString();
}

// Ids of run-wide resources: "org-<seed>-hosp", "loc-<seed>-card-ward", ...
std::string HospitalRef(const Context& ctx) { return ctx.seed_text + "-hosp"; }
std::string DeptKey(const Context& ctx, Dept d) { return ctx.seed_text + "-" + kDepts[d].code; }

void AppendAddressText(std::string& s, const Region& r, std::string_view line) {
  s += r.province;
  if (std::string_view(r.city) != r.province) s += r.city;
  s += r.district;
  s += line;
}

void Address(JsonWriter& w, const Region& r, const std::string& line, std::string_view use) {
  std::string text;
  AppendAddressText(text, r, line);
  w.Key("address");
  w.BeginArray();
  w.BeginObject();
  w.KV("use", use);
  w.KV("type", "physical");
  w.KV("text", text);
  w.Key("line");
  w.BeginArray();
  w.String(line);
  w.EndArray();
  w.KV("city", r.city);
  w.KV("district", r.district);
  w.KV("state", r.province);
  w.KV("country", "CN");
  w.EndObject();
  w.EndArray();
}

void HumanName(JsonWriter& w, const std::string& family, const std::string& given) {
  w.Key("name");
  w.BeginArray();
  w.BeginObject();
  w.KV("use", "official");
  w.KV("text", family + given);
  w.KV("family", family);
  w.Key("given");
  w.BeginArray();
  w.String(given);
  w.EndArray();
  w.EndObject();
  w.EndArray();
}

std::string_view Gender(Sex s) { return s == Sex::kMale ? "male" : "female"; }

// ------------------------------------------------------ patient writer

class PatientWriter {
 public:
  PatientWriter(const Context& ctx, const PatientRecord& p, ResourceBuffers& out)
      : ctx_(ctx), p_(p), out_(out), ids_(ctx.seed_text, p.index), hosp_(HospitalRef(ctx)) {
    name_ = p.family + p.given;
  }

  void Write() {
    Patient();
    for (int e : p_.encounter_order) {
      const EncounterRecord& enc = p_.encounters[static_cast<size_t>(e)];
      const int rank = p_.encounter_rank[static_cast<size_t>(e)];
      dept_key_ = DeptKey(ctx_, enc.dept);
      Encounter(enc, rank);
      for (size_t c = 0; c < p_.conditions.size(); ++c) {
        if (p_.conditions[c].encounter == e) Condition(static_cast<int>(c), rank);
      }
      for (const VitalSigns& v : enc.vitals) VitalSet(v, rank);
      for (const LabResult& r : enc.labs) Lab(r, rank);
      for (const MedOrder& m : enc.meds) Medication(enc, m, rank);
      for (const ProcRecord& pr : enc.procs) Procedure(enc, pr, rank);
      for (const NoteRecord& n : enc.notes) Note(enc, n, rank);
    }
  }

 private:
  JsonWriter Writer(ResourceType t) { return JsonWriter(out_.data[t]); }

  // The patient's name as display only where a reader benefits; on the
  // numerous Observations it would add ~10% to the output for nothing.
  void SubjectRef(JsonWriter& w, bool display = true) {
    Ref(w, "subject", "Patient", "pat-", ids_.base(), -1,
        display ? std::string_view(name_) : std::string_view());
  }
  void EncounterRef(JsonWriter& w, int rank) {
    Ref(w, "encounter", "Encounter", "enc-", ids_.base(), rank);
  }
  void DoctorRef(JsonWriter& w, std::string_view key, const EncounterRecord& enc) {
    const Person& doc = ctx_.doctors[enc.dept][static_cast<size_t>(enc.practitioner)];
    Ref(w, key, "Practitioner", "prac-", dept_key_, enc.practitioner, doc.family + doc.given);
  }

  void Patient() {
    JsonWriter w = Writer(kPatient);
    Begin(w, "Patient");
    Id(w, "pat-", ids_.base(), -1);
    w.Key("identifier");
    w.BeginArray();
    w.BeginObject();
    w.KV("use", "official");
    Concept(w, "type", kV20203, "NI", "National unique individual identifier", "居民身份证");
    w.KV("system", kIdCardSystem);
    w.KV("value", p_.id_card);
    w.EndObject();
    w.BeginObject();
    w.KV("use", "usual");
    Concept(w, "type", kV20203, "MR", "Medical record number", "病案号");
    w.KV("system", kMrnSystem);
    char mrn[32];
    std::snprintf(mrn, sizeof mrn, "MR%010llu", static_cast<unsigned long long>(p_.index + 1));
    w.KV("value", mrn);
    w.EndObject();
    w.EndArray();
    w.Key("active");
    w.Bool(true);
    HumanName(w, p_.family, p_.given);
    w.Key("telecom");
    w.BeginArray();
    w.BeginObject();
    w.KV("system", "phone");
    w.KV("value", p_.mobile);
    w.KV("use", "mobile");
    w.EndObject();
    w.EndArray();
    w.KV("gender", Gender(p_.sex));
    Date(w, "birthDate", p_.birth_day);
    Address(w, Regions()[p_.region], p_.address_line, "home");
    w.Key("communication");
    w.BeginArray();
    w.BeginObject();
    Concept(w, "language", kBcp47, "zh-CN", "Chinese (China)", "中文");
    w.Key("preferred");
    w.Bool(true);
    w.EndObject();
    w.EndArray();
    Ref(w, "managingOrganization", "Organization", "org-", hosp_, -1, ctx_.hospital_name);
    End(w, out_, kPatient);
  }

  void Encounter(const EncounterRecord& enc, int rank) {
    JsonWriter w = Writer(kEncounter);
    Begin(w, "Encounter");
    Id(w, "enc-", ids_.base(), rank);
    w.KV("status", "finished");
    switch (enc.cls) {
      // Encounter.class is a Coding, not a CodeableConcept, in R4.
      case EncClass::kAmbulatory:
        w.Key("class");
        Coding(w, kActCode, "AMB", "ambulatory");
        break;
      case EncClass::kInpatient:
        w.Key("class");
        Coding(w, kActCode, "IMP", "inpatient encounter");
        break;
      case EncClass::kEmergency:
        w.Key("class");
        Coding(w, kActCode, "EMER", "emergency");
        break;
    }
    w.Key("type");
    w.BeginArray();
    w.BeginObject();
    w.KV("text", enc.cls == EncClass::kAmbulatory  ? "门诊"
                 : enc.cls == EncClass::kInpatient ? "住院"
                                                   : "急诊");
    w.EndObject();
    w.EndArray();
    SubjectRef(w);
    w.Key("participant");
    w.BeginArray();
    w.BeginObject();
    ConceptList(w, "type", kParticipationType, "ATND", "attender");
    DoctorRef(w, "individual", enc);
    w.EndObject();
    w.EndArray();
    w.Key("period");
    w.BeginObject();
    DateTime(w, "start", enc.start);
    DateTime(w, "end", enc.end);
    w.EndObject();
    w.Key("diagnosis");
    w.BeginArray();
    for (size_t i = 0; i < enc.conditions.size(); ++i) {
      w.BeginObject();
      Ref(w, "condition", "Condition", "cond-", ids_.base(),
          p_.condition_rank[static_cast<size_t>(enc.conditions[i])]);
      if (i > 0) {
        Concept(w, "use", kDiagnosisRole, "CM", "Comorbidity diagnosis");
      } else if (enc.cls == EncClass::kInpatient) {
        Concept(w, "use", kDiagnosisRole, "DD", "Discharge diagnosis");
      } else {
        Concept(w, "use", kDiagnosisRole, "billing", "Billing");
      }
      w.Key("rank");
      w.Int(static_cast<int64_t>(i) + 1);
      w.EndObject();
    }
    w.EndArray();
    if (enc.cls == EncClass::kInpatient) {
      w.Key("hospitalization");
      w.BeginObject();
      if (enc.from_emergency) {
        Concept(w, "admitSource", kAdmitSource, "emd", "From accident/emergency department");
      } else {
        Concept(w, "admitSource", kAdmitSource, "outp", "From outpatient department");
      }
      Concept(w, "dischargeDisposition", kDischargeDisposition, "home", "Home");
      w.EndObject();
    }
    const bool ward = enc.cls == EncClass::kInpatient;
    w.Key("location");
    w.BeginArray();
    w.BeginObject();
    Ref(w, "location", "Location", "loc-", dept_key_ + (ward ? "-ward" : "-clinic"), -1,
        ward ? kDepts[enc.dept].ward : kDepts[enc.dept].clinic);
    w.KV("status", "completed");
    w.EndObject();
    w.EndArray();
    Ref(w, "serviceProvider", "Organization", "org-", dept_key_, -1, kDepts[enc.dept].name);
    End(w, out_, kEncounter);
  }

  void Condition(int c, int enc_rank) {
    const ConditionRecord& cond = p_.conditions[static_cast<size_t>(c)];
    const DxDef& dx = kDxs[cond.dx];
    const EncounterRecord& enc = p_.encounters[static_cast<size_t>(cond.encounter)];
    JsonWriter w = Writer(kCondition);
    Begin(w, "Condition");
    Id(w, "cond-", ids_.base(), p_.condition_rank[static_cast<size_t>(c)]);
    const bool resolved = cond.abated != kNever;
    if (resolved) {
      Concept(w, "clinicalStatus", kConditionClinical, "resolved", "Resolved");
    } else {
      Concept(w, "clinicalStatus", kConditionClinical, "active", "Active");
    }
    Concept(w, "verificationStatus", kConditionVerStatus, "confirmed", "Confirmed");
    if (dx.chronic) {
      ConceptList(w, "category", kConditionCategory, "problem-list-item", "Problem List Item");
    } else {
      ConceptList(w, "category", kConditionCategory, "encounter-diagnosis", "Encounter Diagnosis");
    }
    Concept(w, "code", kIcd10, dx.icd10, dx.display, dx.display);
    SubjectRef(w);
    EncounterRef(w, enc_rank);
    // Chronic diseases are dated to the day the patient reports; acute onsets
    // to the hour.
    if (dx.chronic) {
      Date(w, "onsetDateTime", DayOf(cond.onset));
    } else {
      DateTime(w, "onsetDateTime", cond.onset);
    }
    if (resolved) DateTime(w, "abatementDateTime", cond.abated);
    DateTime(w, "recordedDate", cond.recorded);
    DoctorRef(w, "recorder", enc);
    End(w, out_, kCondition);
  }

  void ObservationHead(JsonWriter& w, bool vital) {
    Begin(w, "Observation");
    Id(w, "obs-", ids_.base(), obs_++);
    w.KV("status", "final");
    if (vital) {
      ConceptList(w, "category", kObservationCategory, "vital-signs", "Vital Signs");
    } else {
      ConceptList(w, "category", kObservationCategory, "laboratory", "Laboratory");
    }
  }

  void ObservationContext(JsonWriter& w, int64_t time, int rank) {
    SubjectRef(w, false);
    EncounterRef(w, rank);
    DateTime(w, "effectiveDateTime", time);
  }

  // A single-valued vital sign.
  void SingleVital(Vital which, double value, int64_t time, int rank) {
    const MeasureDef& def = kVitals[which];
    JsonWriter w = Writer(kObservation);
    ObservationHead(w, true);
    w.Key("code");
    w.BeginObject();
    w.Key("coding");
    w.BeginArray();
    Coding(w, kLoinc, def.loinc, def.display);
    if (which == kVitalSpo2) Coding(w, kLoinc, kLoincSpo2Base, kLoincSpo2BaseDisplay);
    w.EndArray();
    w.KV("text", def.name);
    w.EndObject();
    ObservationContext(w, time, rank);
    Quantity(w, "valueQuantity", value, def.decimals, def.unit, def.ucum);
    if (def.has_low || def.has_high) Interpretation(w, Interpret(def, p_.sex, value));
    End(w, out_, kObservation);
  }

  void VitalSet(const VitalSigns& v, int rank) {
    {
      JsonWriter w = Writer(kObservation);
      ObservationHead(w, true);
      Concept(w, "code", kLoinc, kLoincBpPanel, kLoincBpPanelDisplay, "血压");
      ObservationContext(w, v.time, rank);
      w.Key("component");
      w.BeginArray();
      for (auto [which, value] :
           {std::pair{kVitalSystolic, v.systolic}, std::pair{kVitalDiastolic, v.diastolic}}) {
        const MeasureDef& def = kVitals[which];
        w.BeginObject();
        Concept(w, "code", kLoinc, def.loinc, def.display, def.name);
        Quantity(w, "valueQuantity", value, 0, def.unit, def.ucum);
        Interpretation(w, Interpret(def, p_.sex, value));
        w.EndObject();
      }
      w.EndArray();
      End(w, out_, kObservation);
    }
    SingleVital(kVitalHeartRate, v.heart_rate, v.time, rank);
    SingleVital(kVitalRespRate, v.resp_rate, v.time, rank);
    SingleVital(kVitalTemperature, v.temperature, v.time, rank);
    SingleVital(kVitalSpo2, v.spo2, v.time, rank);
    if (v.anthropometrics) {
      SingleVital(kVitalWeight, v.weight, v.time, rank);
      SingleVital(kVitalHeight, v.height, v.time, rank);
      double m = v.height / 100.0;
      SingleVital(kVitalBmi, v.weight / (m * m), v.time, rank);
    }
  }

  void Lab(const LabResult& r, int rank) {
    const MeasureDef& def = kLabs[r.lab];
    JsonWriter w = Writer(kObservation);
    ObservationHead(w, false);
    Concept(w, "code", kLoinc, def.loinc, def.display, def.name);
    ObservationContext(w, r.time, rank);
    // Results are released about 45 minutes after the specimen is taken.
    DateTime(w, "issued", r.time + 45);
    Quantity(w, "valueQuantity", r.value, def.decimals, def.unit, def.ucum);
    Interpretation(w, Interpret(def, p_.sex, r.value));
    ReferenceRange(w, def, p_.sex);
    End(w, out_, kObservation);
  }

  void Medication(const EncounterRecord& enc, const MedOrder& m, int rank) {
    const DrugDef& d = kDrugs[m.drug];
    JsonWriter w = Writer(kMedicationRequest);
    Begin(w, "MedicationRequest");
    Id(w, "med-", ids_.base(), med_++);
    w.KV("status", m.active ? "active" : "completed");
    w.KV("intent", "order");
    if (enc.cls == EncClass::kInpatient) {
      ConceptList(w, "category", kMedRequestCategory, "inpatient", "Inpatient");
    } else {
      ConceptList(w, "category", kMedRequestCategory, "outpatient", "Outpatient");
    }
    Concept(w, "medicationCodeableConcept", kAtc, d.atc, d.english, d.name);
    SubjectRef(w);
    EncounterRef(w, rank);
    DateTime(w, "authoredOn", m.time);
    DoctorRef(w, "requester", enc);
    w.Key("reasonReference");
    w.BeginArray();
    Ref(w, {}, "Condition", "cond-", ids_.base(),
        p_.condition_rank[static_cast<size_t>(m.condition)],
        kDxs[p_.conditions[static_cast<size_t>(m.condition)].dx].display);
    w.EndArray();
    w.Key("dosageInstruction");
    w.BeginArray();
    w.BeginObject();
    std::string text;
    AppendDrug(text, m.drug);
    w.KV("text", text);
    if (!d.as_needed) {
      w.Key("timing");
      w.BeginObject();
      w.Key("repeat");
      w.BeginObject();
      if (d.frequency == 0) {
        w.Key("count");
        w.Int(1);
      } else {
        w.Key("frequency");
        w.Int(d.frequency);
        w.Key("period");
        w.Int(d.period);
        w.KV("periodUnit", d.period_unit);
      }
      w.EndObject();
      w.EndObject();
    }
    w.Key("asNeededBoolean");
    w.Bool(d.as_needed);
    const RouteDef& route = kRoutes[d.route];
    Concept(w, "route", kSnomed, route.snomed, route.display, route.name);
    w.Key("doseAndRate");
    w.BeginArray();
    w.BeginObject();
    Quantity(w, "doseQuantity", d.dose, d.dose_decimals, d.dose_unit, d.dose_ucum);
    w.EndObject();
    w.EndArray();
    w.EndObject();
    w.EndArray();
    End(w, out_, kMedicationRequest);
  }

  void Procedure(const EncounterRecord& enc, const ProcRecord& pr, int rank) {
    const ProcDef& def = kProcs[pr.proc];
    JsonWriter w = Writer(kProcedure);
    Begin(w, "Procedure");
    Id(w, "proc-", ids_.base(), proc_++);
    w.KV("status", "completed");
    switch (def.kind) {
      case ProcKind::kSurgical:
        Concept(w, "category", kSnomed, "387713003", "Surgical procedure");
        break;
      case ProcKind::kDiagnostic:
        Concept(w, "category", kSnomed, "103693007", "Diagnostic procedure");
        break;
      case ProcKind::kTherapeutic:
        Concept(w, "category", kSnomed, "277132007", "Therapeutic procedure");
        break;
    }
    Concept(w, "code", kIcd9Cm, def.code, def.name, def.name);
    SubjectRef(w);
    EncounterRef(w, rank);
    DateTime(w, "performedDateTime", pr.time);
    w.Key("performer");
    w.BeginArray();
    w.BeginObject();
    DoctorRef(w, "actor", enc);
    w.EndObject();
    w.EndArray();
    w.Key("reasonReference");
    w.BeginArray();
    Ref(w, {}, "Condition", "cond-", ids_.base(),
        p_.condition_rank[static_cast<size_t>(pr.condition)],
        kDxs[p_.conditions[static_cast<size_t>(pr.condition)].dx].display);
    w.EndArray();
    End(w, out_, kProcedure);
  }

  void Note(const EncounterRecord& enc, const NoteRecord& n, int rank) {
    const NoteTypeDef& type = kNoteTypes[n.type];
    JsonWriter w = Writer(kDocumentReference);
    Begin(w, "DocumentReference");
    Id(w, "doc-", ids_.base(), doc_++);
    w.KV("status", "current");
    w.KV("docStatus", "final");
    Concept(w, "type", kLoinc, type.loinc, type.display, type.title);
    SubjectRef(w);
    DateTime(w, "date", n.time);
    w.Key("author");
    w.BeginArray();
    DoctorRef(w, {}, enc);
    w.EndArray();
    Ref(w, "custodian", "Organization", "org-", hosp_, -1, ctx_.hospital_name);
    w.KV("description", type.title);
    w.Key("content");
    w.BeginArray();
    w.BeginObject();
    w.Key("attachment");
    w.BeginObject();
    w.KV("contentType", "text/plain; charset=utf-8");
    w.KV("language", "zh-CN");
    w.Key("data");
    w.BeginRawString();
    AppendBase64(w.out(), n.text);
    w.EndRawString();
    w.KV("title", type.title);
    DateTime(w, "creation", n.time);
    w.EndObject();
    w.EndObject();
    w.EndArray();
    w.Key("context");
    w.BeginObject();
    w.Key("encounter");
    w.BeginArray();
    Ref(w, {}, "Encounter", "enc-", ids_.base(), rank);
    w.EndArray();
    w.Key("period");
    w.BeginObject();
    DateTime(w, "start", enc.start);
    DateTime(w, "end", enc.end);
    w.EndObject();
    w.EndObject();
    End(w, out_, kDocumentReference);
  }

  const Context& ctx_;
  const PatientRecord& p_;
  ResourceBuffers& out_;
  Ids ids_;
  std::string hosp_;
  std::string name_;
  std::string dept_key_;
  int obs_ = 0, med_ = 0, proc_ = 0, doc_ = 0;
};

}  // namespace

void WritePatient(const Context& ctx, const PatientRecord& p, ResourceBuffers& out) {
  PatientWriter(ctx, p, out).Write();
}

void WriteHospital(const Context& ctx, ResourceBuffers& out) {
  const std::string hosp = HospitalRef(ctx);
  const Region& region = Regions()[ctx.hospital_region];
  {
    JsonWriter w(out.data[kOrganization]);
    Begin(w, "Organization");
    Id(w, "org-", hosp, -1);
    w.Key("identifier");
    w.BeginArray();
    w.BeginObject();
    w.KV("system", kOrganizationSystem);
    w.KV("value", ctx.hospital_code);
    w.EndObject();
    w.EndArray();
    w.Key("active");
    w.Bool(true);
    ConceptList(w, "type", kOrganizationType, "prov", "Healthcare Provider");
    w.KV("name", ctx.hospital_name);
    Address(w, region, ctx.hospital_address_line, "work");
    End(w, out, kOrganization);
  }
  for (int d = 0; d < kDeptCount; ++d) {
    const DeptDef& dept = kDepts[d];
    const std::string key = DeptKey(ctx, static_cast<Dept>(d));
    JsonWriter w(out.data[kOrganization]);
    Begin(w, "Organization");
    Id(w, "org-", key, -1);
    w.Key("identifier");
    w.BeginArray();
    w.BeginObject();
    w.KV("system", kOrganizationSystem);
    w.KV("value", ctx.hospital_code + "-" + dept.code);
    w.EndObject();
    w.EndArray();
    w.Key("active");
    w.Bool(true);
    ConceptList(w, "type", kOrganizationType, "dept", "Hospital Department");
    w.KV("name", dept.name);
    w.Key("alias");
    w.BeginArray();
    w.String(dept.english);
    w.EndArray();
    Ref(w, "partOf", "Organization", "org-", hosp, -1, ctx.hospital_name);
    End(w, out, kOrganization);

    for (bool ward : {false, true}) {
      JsonWriter lw(out.data[kLocation]);
      Begin(lw, "Location");
      Id(lw, "loc-", key + (ward ? "-ward" : "-clinic"), -1);
      lw.KV("status", "active");
      lw.KV("name", ward ? dept.ward : dept.clinic);
      lw.KV("mode", "instance");
      if (ward) {
        Concept(lw, "physicalType", kLocationPhysicalType, "wa", "Ward");
      } else {
        Concept(lw, "physicalType", kLocationPhysicalType, "area", "Area");
      }
      Ref(lw, "managingOrganization", "Organization", "org-", key, -1, dept.name);
      End(lw, out, kLocation);
    }

    for (int i = 0; i < kDoctorsPerDept; ++i) {
      const Person& doc = ctx.doctors[static_cast<size_t>(d)][static_cast<size_t>(i)];
      JsonWriter pw(out.data[kPractitioner]);
      Begin(pw, "Practitioner");
      Id(pw, "prac-", key, i);
      pw.Key("identifier");
      pw.BeginArray();
      pw.BeginObject();
      pw.KV("system", kPhysicianLicenseSystem);
      pw.KV("value", doc.license);
      pw.EndObject();
      pw.EndArray();
      pw.Key("active");
      pw.Bool(true);
      HumanName(pw, doc.family, doc.given);
      pw.KV("gender", Gender(doc.sex));
      pw.Key("qualification");
      pw.BeginArray();
      pw.BeginObject();
      pw.Key("code");
      pw.BeginObject();
      pw.KV("text", doc.title);
      pw.EndObject();
      Ref(pw, "issuer", "Organization", "org-", hosp, -1, ctx.hospital_name);
      pw.EndObject();
      pw.EndArray();
      End(pw, out, kPractitioner);
    }
  }
}

}  // namespace haip::synth
