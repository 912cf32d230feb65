#include "synth/notes.h"

#include "synth/json_writer.h"

static_assert(haip::synth::kDrugCount <= 64 && haip::synth::kProcCount <= 64,
              "AppendDrugs/AppendProcs track seen items in a 64-bit mask");

namespace haip::synth {

void AppendDuration(std::string& out, DurUnit unit, int amount) {
  if (unit == DurUnit::kNone) return;
  AppendInt(out, amount);
  switch (unit) {
    case DurUnit::kHours:
      out += "小时";
      break;
    case DurUnit::kDays:
      out += "天";
      break;
    case DurUnit::kMonths:
      out += "个月";
      break;
    case DurUnit::kYears:
      out += "年";
      break;
    case DurUnit::kNone:
      break;
  }
}

void AppendVitals(std::string& out, const VitalSigns& v) {
  out += "T ";
  AppendDecimal(out, v.temperature, 1);
  out += "℃，P ";
  AppendInt(out, v.heart_rate);
  out += "次/分，R ";
  AppendInt(out, v.resp_rate);
  out += "次/分，BP ";
  AppendInt(out, v.systolic);
  out += '/';
  AppendInt(out, v.diastolic);
  out += "mmHg，SpO2 ";
  AppendInt(out, v.spo2);
  out += '%';
  if (v.anthropometrics) {
    out += "，身高 ";
    AppendInt(out, v.height);
    out += "cm，体重 ";
    AppendDecimal(out, v.weight, 1);
    out += "kg";
  }
}

void AppendLabs(std::string& out, Sex sex, std::span<const LabResult> labs) {
  bool first = true;
  for (const LabResult& r : labs) {
    const MeasureDef& def = kLabs[r.lab];
    if (!first) out += "，";
    first = false;
    out += def.name;
    out += ' ';
    AppendDecimal(out, r.value, def.decimals);
    out += def.unit;
    char flag = Interpret(def, sex, r.value);
    if (flag == 'H') out += "（↑）";
    if (flag == 'L') out += "（↓）";
  }
}

void AppendDrug(std::string& out, Drug drug) {
  const DrugDef& d = kDrugs[drug];
  out += d.name;
  out += ' ';
  AppendDecimal(out, d.dose, d.dose_decimals);
  out += d.dose_unit;
  out += ' ';
  out += kRoutes[d.route].name;
  out += ' ';
  out += d.frequency_text;
}

void AppendDrugs(std::string& out, std::span<const MedOrder> meds) {
  uint64_t seen = 0;  // kDrugCount < 64
  bool first = true;
  for (const MedOrder& m : meds) {
    uint64_t bit = uint64_t{1} << m.drug;
    if (seen & bit) continue;
    seen |= bit;
    if (!first) out += "；";
    first = false;
    AppendDrug(out, m.drug);
  }
}

void AppendProcs(std::string& out, std::span<const ProcRecord> procs) {
  uint64_t seen = 0;  // kProcCount < 64
  bool first = true;
  for (const ProcRecord& r : procs) {
    uint64_t bit = uint64_t{1} << r.proc;
    if (seen & bit) continue;
    seen |= bit;
    if (!first) out += "、";
    first = false;
    out += kProcs[r.proc].name;
  }
}

void AppendDiagnoses(std::string& out, const PatientRecord& p, const std::vector<int>& conditions) {
  int n = 0;
  for (int c : conditions) {
    if (n > 0) out += "　";
    AppendInt(out, ++n);
    out += ". ";
    out += kDxs[p.conditions[static_cast<size_t>(c)].dx].display;
  }
}

const char* SexText(Sex sex) { return sex == Sex::kMale ? "男" : "女"; }

}  // namespace haip::synth
