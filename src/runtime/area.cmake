# Runtime kernels: let the compiler vectorize the hot loops (portable ISA;
# run-time dispatched AVX-512/AVX2 kernels come with issue 9).
set_source_files_properties(
  ${CMAKE_SOURCE_DIR}/src/runtime/sgemm.c
  ${CMAKE_SOURCE_DIR}/src/runtime/ops/conv.c
  ${CMAKE_SOURCE_DIR}/src/runtime/ops/elementwise.c
  PROPERTIES COMPILE_OPTIONS "-O3")
