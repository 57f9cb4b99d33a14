// One small network per space, shared by the backend tests that compare against the reference.
#pragma once

#include <string>

namespace esm::backend {

inline std::string repeat(const std::string& item, int count, const std::string& sep) {
  std::string out;
  for (int i = 0; i < count; ++i) out += (i ? sep : "") + item;
  return out;
}

/// DenseNet's cheapest member: depths 4,8,24,16, growth 24, bottleneck factor 2 everywhere.
inline std::string smallest_densenet(int resolution) {
  return "densenet:r" + std::to_string(resolution) + ":d=4,8,24,16:g=24,24,24,24:b=" + repeat("2", 4, ",") + "-" +
         repeat("2", 8, ",") + "-" + repeat("2", 24, ",") + "-" + repeat("2", 16, ",");
}

struct space_case {
  const char* label;
  std::string arch;
};

inline const space_case space_cases[] = {
    // SE blocks, hswish/hsigmoid, 3/5/7 depthwise kernels, identity residuals.
    {"mbv3_w10", "ofa-mbv3:w1.0:r128:d=2,3,2,4,2:k=3,5-7,3,5-5,7-3,7,5,3-7,5:e=3,4-6,3,4-4,6-3,4,6,3-6,4"},
    {"mbv3_w12", "ofa-mbv3:w1.2:r128:d=4,2,3,2,2:k=7,5,3,3-5,7-3,5,7-5,3-3,7:e=6,4,3,3-4,6-3,4,6-6,3-4,3"},
    // Stem residual block, downsampling shortcuts with avg pools, residual adds with relu.
    {"resnet50", "ofa-resnet50:r128:d=2,0,1,0,0:w=0,1,0,2,1,0:e=20,25-35,20,25-20,35,25,20-35,25"},
    {"densenet", smallest_densenet(128)},
};

}  // namespace esm::backend
