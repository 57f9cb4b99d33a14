// Test tool of tests/cli/bad_inputs.sh: overwrites one root attribute of an HDF5 file, to make
// files esm must refuse (a newer schema version, a model that names another encoding or space).
//   esm_test_h5_set_attribute FILE NAME int|text VALUE
#include <cstdlib>
#include <iostream>
#include <string>

#include "esm/dataset/hdf5.hpp"

int main(int argc, char** argv) {
  namespace h5 = esm::dataset::h5;
  const std::string kind = argc == 5 ? argv[3] : "";
  if (kind != "int" && kind != "text") {
    std::cerr << "usage: esm_test_h5_set_attribute FILE NAME int|text VALUE\n";
    return 2;
  }
  try {
    h5::library_init();
    h5::file f(ESM_H5(H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT)));
    if (kind == "int") {
      h5::write_attribute(f.get(), argv[2], static_cast<std::int64_t>(std::strtoll(argv[4], nullptr, 10)));
    } else {
      h5::write_attribute(f.get(), argv[2], std::string_view(argv[4]));
    }
    f.close();
  } catch (const std::exception& e) {
    std::cerr << "esm_test_h5_set_attribute: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
