# Runtime kernels: let the compiler vectorize the hot loops (portable ISA).
file(GLOB _rt_hot CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/src/runtime/ops/*.c")
set_source_files_properties(
  ${CMAKE_SOURCE_DIR}/src/runtime/sgemm.c
  ${_rt_hot}
  PROPERTIES COMPILE_OPTIONS "-O3")
# AVX2+FMA kernels: only files named *_avx2.c get the ISA flags, so the rest
# of the binary stays portable; their callers check the CPU at run time
# (ci_use_avx2, rt.h) before calling into them.
file(GLOB _rt_avx2 CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/src/runtime/*_avx2.c"
  "${CMAKE_SOURCE_DIR}/src/runtime/ops/*_avx2.c")
set_source_files_properties(${_rt_avx2} PROPERTIES COMPILE_OPTIONS "-O3;-mavx2;-mfma")
