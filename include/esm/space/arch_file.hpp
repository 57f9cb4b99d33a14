// Files of architectures, one per line: esm's canonical texts or once-for-all arch configs as JSON
// lines. `esm import` and `esm profile`'s `sample.policy = file` read them with this one reader.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "esm/space/ofa_config.hpp"
#include "esm/space/space.hpp"

namespace esm::space {

enum class arch_file_format { esm_text, ofa_config };

[[nodiscard]] std::string_view to_string(arch_file_format f);

/// The architectures of a file, archs[i] from line i + 1.
struct arch_file {
  arch_file_format format = arch_file_format::esm_text;
  std::vector<arch> archs;
};

/// Reads `path`. The first line decides the format (a line starting with '{' means OFA configs as
/// JSON objects, anything else esm texts); every line must then be of that format, an arch of
/// `space`, and distinct from the lines before it. `variant`: the width of OFA configs (required
/// when the space has variants, since a config does not hold it); with texts, when non-empty, the
/// width every text must have. A trailing '\r' is ignored; an empty line (but the file's last) is
/// an error. Throws usage_error "PATH:LINE: problem" (file_error when unreadable or empty).
[[nodiscard]] arch_file read_arch_file(const std::string& path, const search_space& space, std::string_view variant);

/// An OFA config from one JSON object. Keys: ks, e, d, w (lists of numbers), r (a number or a
/// one-element list; once-for-all's arch encoders call it image_size, also accepted). Throws
/// usage_error on malformed JSON, an unknown key, a non-integer where integers belong.
[[nodiscard]] ofa_config parse_ofa_json(std::string_view json);

/// `config` as one JSON object in OFA's key order for `space`, numbers without a decimal point
/// where they are integers ({"ks": [3, 5, ...], "e": [...], "d": [...], "r": 224}).
[[nodiscard]] std::string ofa_json(const search_space& space, const ofa_config& config);

}  // namespace esm::space
