# SPDX-License-Identifier: AGPL-3.0-or-later
# parley_proto_library(<target> <schema>): generates C++ for one schema under the calling folder's
# proto/ (e.g. parley/wire/frame.proto) into its build folder's gen/, keeping the package path, so
# code includes "parley/wire/frame.pb.h". The generated code builds in its own static target
# without our warning flags (it is not ours); link that target to use the schema.
function(parley_proto_library target schema)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/gen)
  set(in ${CMAKE_CURRENT_SOURCE_DIR}/proto)
  string(REGEX REPLACE "\\.proto$" "" stem "${schema}")
  file(MAKE_DIRECTORY ${out})
  add_custom_command(
    OUTPUT ${out}/${stem}.pb.cc ${out}/${stem}.pb.h
    COMMAND protobuf::protoc --cpp_out=${out} -I${in} ${in}/${schema}
    DEPENDS ${in}/${schema} protobuf::protoc
    COMMENT "protoc ${schema}"
    VERBATIM)
  add_library(${target} STATIC ${out}/${stem}.pb.cc ${out}/${stem}.pb.h)
  target_include_directories(${target} SYSTEM PUBLIC ${out})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf)
endfunction()
