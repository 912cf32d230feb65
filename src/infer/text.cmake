# haip_infer_text: GGUF reading and writing, the tokenizer and chat templates.
add_library(haip_infer_text STATIC
  ${CMAKE_CURRENT_LIST_DIR}/gguf.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unicode.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pre_tokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/chat_template.cpp
)
target_link_libraries(haip_infer_text PUBLIC haip_core)
