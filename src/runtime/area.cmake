# Runtime kernels: let the compiler vectorize the hot loops (portable ISA).
set_source_files_properties(
  ${CMAKE_SOURCE_DIR}/src/runtime/sgemm.c
  ${CMAKE_SOURCE_DIR}/src/runtime/ops/conv.c
  ${CMAKE_SOURCE_DIR}/src/runtime/ops/elementwise.c
  PROPERTIES COMPILE_OPTIONS "-O3")
# The AVX2+FMA SGEMM kernel: only this file gets the ISA flags, so the rest
# of the binary stays portable; sgemm.c calls it only when the CPU has
# AVX2 and FMA (run-time check).
set_source_files_properties(
  ${CMAKE_SOURCE_DIR}/src/runtime/sgemm_avx2.c
  PROPERTIES COMPILE_OPTIONS "-O3;-mavx2;-mfma")
