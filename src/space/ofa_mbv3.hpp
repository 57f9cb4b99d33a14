// The ofa_mbv3 search space (docs/spaces.md is its contract).
#pragma once

#include "esm/space/space.hpp"

namespace esm::space {

class ofa_mbv3 final : public search_space {
 public:
  [[nodiscard]] std::string_view name() const override;
  [[nodiscard]] std::string choices_text() const override;
  [[nodiscard]] std::vector<std::string> variants() const override;
  [[nodiscard]] std::string_view variant_of(const arch& a) const override;
  [[nodiscard]] std::vector<std::string> gene_names() const override;
  [[nodiscard]] gene_layout layout() const override;
  [[nodiscard]] std::string format(const arch& a) const override;
  [[nodiscard]] arch parse(std::string_view text) const override;
  [[nodiscard]] int depth(const arch& a) const override;
  [[nodiscard]] int resolution(const arch& a) const override;
  [[nodiscard]] net::network build(const arch& a, int batch) const override;

 protected:
  [[nodiscard]] structure elastic_structure(const sample_constraints& c) const override;
  [[nodiscard]] arch assemble(const sample_constraints& c, const std::vector<int>& depths,
                              const std::vector<int>& block_choices,
                              const std::vector<int>& global_choices) const override;
};

}  // namespace esm::space
