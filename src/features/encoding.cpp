// The five encodings over a space's gene layout.
#include "esm/features/encoding.hpp"

#include <algorithm>
#include <cmath>

#include "esm/common/error.hpp"

namespace esm::features {

encoding_kind parse_encoding(std::string_view text) {
  if (text == "onehot") return encoding_kind::onehot;
  if (text == "stats") return encoding_kind::stats;
  if (text == "fc") return encoding_kind::fc;
  if (text == "fcc") return encoding_kind::fcc;
  if (text == "lut") return encoding_kind::lut;
  throw usage_error("unknown encoding '" + std::string(text) + "' (onehot, stats, fc, fcc, lut)");
}

std::string_view to_string(encoding_kind k) {
  switch (k) {
    case encoding_kind::onehot: return "onehot";
    case encoding_kind::stats: return "stats";
    case encoding_kind::fc: return "fc";
    case encoding_kind::fcc: return "fcc";
    case encoding_kind::lut: return "lut";
  }
  return "?";
}

std::string encoding_spec::text() const { return std::string(to_string(kind)) + (extras ? "+extras" : ""); }

encoding_spec encoding_spec::parse(std::string_view text) {
  encoding_spec s;
  constexpr std::string_view suffix = "+extras";
  if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
    s.extras = true;
    text.remove_suffix(suffix.size());
  }
  s.kind = parse_encoding(text);
  return s;
}

namespace {

/// value -> position in d.values, -1 for any other value (a table indexed by value).
std::vector<int> position_table(const space::gene_layout::dim& d) {
  const int top = d.values.empty() ? 0 : *std::max_element(d.values.begin(), d.values.end());
  std::vector<int> table(static_cast<std::size_t>(std::max(top, 0)) + 1, -1);
  for (std::size_t i = 0; i < d.values.size(); ++i) {
    if (d.values[i] >= 0) table[static_cast<std::size_t>(d.values[i])] = static_cast<int>(i);
  }
  return table;
}

int position(const std::vector<int>& table, int value) {
  return value >= 0 && static_cast<std::size_t>(value) < table.size() ? table[static_cast<std::size_t>(value)] : -1;
}

/// Number of combinations of all block dims (FCC's per-stage alphabet).
int combinations(const space::gene_layout& l) {
  int n = 1;
  for (const auto& d : l.block_dims) n *= static_cast<int>(d.values.size());
  return n;
}

}  // namespace

encoder::encoder(const space::search_space& sp, encoding_spec spec, const lut_table* table)
    : space_(sp), spec_(spec), table_(table), layout_(sp.layout()), gene_count_(sp.gene_names().size()) {
  if (spec_.kind == encoding_kind::lut && table_ == nullptr) {
    throw usage_error("the lut encoding needs a lookup table (--lut DIR)");
  }
  const auto& l = layout_;
  for (const auto& d : l.block_dims) block_position_.push_back(position_table(d));
  for (const auto& g : l.global_dims) global_position_.push_back(position_table(g));
  const auto stage_name = [](std::size_t s) { return "s" + std::to_string(s + 1); };
  switch (spec_.kind) {
    case encoding_kind::onehot:
      for (std::size_t s = 0; s < l.stage_slots.size(); ++s) {
        for (int p = 0; p < l.stage_slots[s]; ++p) {
          for (const auto& d : l.block_dims) {
            for (int v : d.values) names_.push_back(stage_name(s) + ".b" + std::to_string(p + 1) + "." + d.name + "=" + std::to_string(v));
          }
        }
      }
      for (const auto& g : l.global_dims) {
        for (int v : g.values) names_.push_back(g.name + "=" + std::to_string(v));
      }
      break;
    case encoding_kind::stats:
      for (std::size_t s = 0; s <= l.stage_slots.size(); ++s) {
        const std::string prefix = s < l.stage_slots.size() ? stage_name(s) : std::string("net");
        names_.push_back(prefix + ".depth");
        for (const auto& d : l.block_dims) {
          names_.push_back(prefix + "." + d.name + ".mean");
          names_.push_back(prefix + "." + d.name + ".std");
        }
      }
      break;
    case encoding_kind::fc:
      for (const auto& d : l.block_dims) {
        for (int v : d.values) names_.push_back("count." + d.name + "=" + std::to_string(v));
      }
      break;
    case encoding_kind::fcc:
      for (std::size_t s = 0; s < l.stage_slots.size(); ++s) {
        for (int c = 0; c < combinations(l); ++c) {
          std::string name = stage_name(s) + ".count";
          int rest = c;
          for (auto d = l.block_dims.rbegin(); d != l.block_dims.rend(); ++d) {
            const int n = static_cast<int>(d->values.size());
            name += "." + d->name + "=" + std::to_string(d->values[static_cast<std::size_t>(rest % n)]);
            rest /= n;
          }
          names_.push_back(name);
        }
      }
      break;
    case encoding_kind::lut:
      names_.push_back("lut_sum_ms");
      break;
  }
  // Globals as plain values for every count/statistics encoding (one-hot already has them).
  if (spec_.kind == encoding_kind::stats || spec_.kind == encoding_kind::fc || spec_.kind == encoding_kind::fcc) {
    for (const auto& g : l.global_dims) names_.push_back(g.name);
  }
  if (spec_.extras) {
    for (const char* e : {"gmacs", "mparams", "depth", "resolution_extra"}) names_.emplace_back(e);
  }
}

void encoder::encode_blocks(const space::arch& a, double* out) const {
  const auto& l = layout_;
  const auto gene = [&](int index) { return a.genes[static_cast<std::size_t>(index)]; };
  const std::size_t dims = l.block_dims.size();
  double* o = out;
  switch (spec_.kind) {
    case encoding_kind::onehot:
      for (std::size_t s = 0; s < l.stage_slots.size(); ++s) {
        for (int p = 0; p < l.stage_slots[s]; ++p) {
          const int slot = l.slot_offset[s] + p;
          for (std::size_t di = 0; di < dims; ++di) {
            const auto& d = l.block_dims[di];
            const int k = position(block_position_[di], gene(d.gene_offset + slot));
            for (std::size_t v = 0; v < d.values.size(); ++v) *o++ = (static_cast<int>(v) == k) ? 1.0 : 0.0;
          }
        }
      }
      for (std::size_t gi = 0; gi < l.global_dims.size(); ++gi) {
        const auto& g = l.global_dims[gi];
        const int k = position(global_position_[gi], gene(g.gene_offset));
        for (std::size_t v = 0; v < g.values.size(); ++v) *o++ = (static_cast<int>(v) == k) ? 1.0 : 0.0;
      }
      return;
    case encoding_kind::stats: {
      std::vector<double> net_sum(dims, 0.0), net_sq(dims, 0.0);
      double net_depth = 0;
      for (std::size_t s = 0; s <= l.stage_slots.size(); ++s) {
        const bool network_level = s == l.stage_slots.size();
        double depth = 0;
        std::vector<double> sum(dims, 0.0), sq(dims, 0.0);
        if (network_level) {
          depth = net_depth;
          sum = net_sum;
          sq = net_sq;
        } else {
          for (int p = 0; p < l.stage_slots[s]; ++p) {
            const int slot = l.slot_offset[s] + p;
            if (gene(l.block_dims[0].gene_offset + slot) == 0) continue;
            depth += 1;
            for (std::size_t d = 0; d < dims; ++d) {
              const double v = gene(l.block_dims[d].gene_offset + slot);
              sum[d] += v;
              sq[d] += v * v;
            }
          }
          net_depth += depth;
          for (std::size_t d = 0; d < dims; ++d) {
            net_sum[d] += sum[d];
            net_sq[d] += sq[d];
          }
        }
        *o++ = depth;
        for (std::size_t d = 0; d < dims; ++d) {
          const double mean = depth > 0 ? sum[d] / depth : 0.0;
          *o++ = mean;
          *o++ = depth > 0 ? std::sqrt(std::max(0.0, sq[d] / depth - mean * mean)) : 0.0;
        }
      }
      break;
    }
    case encoding_kind::fc:
      std::fill(o, o + static_cast<std::ptrdiff_t>(names_.size()), 0.0);
      for (int slot = 0; slot < l.total_slots(); ++slot) {
        if (gene(l.block_dims[0].gene_offset + slot) == 0) continue;
        double* base = o;
        for (std::size_t di = 0; di < dims; ++di) {
          const auto& d = l.block_dims[di];
          base[position(block_position_[di], gene(d.gene_offset + slot))] += 1.0;
          base += d.values.size();
        }
      }
      for (const auto& d : l.block_dims) o += d.values.size();
      break;
    case encoding_kind::fcc: {
      const int combos = combinations(l);
      std::fill(o, o + static_cast<std::ptrdiff_t>(l.stage_slots.size()) * combos, 0.0);
      for (std::size_t s = 0; s < l.stage_slots.size(); ++s) {
        for (int p = 0; p < l.stage_slots[s]; ++p) {
          const int slot = l.slot_offset[s] + p;
          if (gene(l.block_dims[0].gene_offset + slot) == 0) continue;
          int c = 0;
          for (std::size_t di = 0; di < dims; ++di) {
            const auto& d = l.block_dims[di];
            c = c * static_cast<int>(d.values.size()) + position(block_position_[di], gene(d.gene_offset + slot));
          }
          o[static_cast<std::ptrdiff_t>(s) * combos + c] += 1.0;
        }
      }
      o += static_cast<std::ptrdiff_t>(l.stage_slots.size()) * combos;
      break;
    }
    case encoding_kind::lut:
      *o++ = table_->network_latency_ms(space_.build(a, 1), space_.resolution(a));
      return;
  }
  for (const auto& g : l.global_dims) *o++ = gene(g.gene_offset);
}

void encoder::encode(const space::arch& a, double* out) const {
  if (a.space != space_.name() || a.genes.size() != gene_count_) {
    throw usage_error("architecture of space '" + a.space + "' given to an encoder for '" + std::string(space_.name()) + "'");
  }
  encode_blocks(a, out);
  if (spec_.extras) {
    double* o = out + names_.size() - 4;
    const net::network n = space_.build(a, 1);
    o[0] = static_cast<double>(n.total_macs()) / 1e9;
    o[1] = static_cast<double>(n.total_params()) / 1e6;
    o[2] = space_.depth(a);
    o[3] = space_.resolution(a);
  }
}

feature_matrix encoder::encode(const std::vector<space::arch>& archs) const {
  feature_matrix m;
  m.rows = archs.size();
  m.cols = width();
  m.data.resize(m.rows * m.cols);
  for (std::size_t r = 0; r < archs.size(); ++r) encode(archs[r], m.data.data() + r * m.cols);
  return m;
}

}  // namespace esm::features
