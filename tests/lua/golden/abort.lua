-- ll.abort stops the test (exit code 108); code after it in the iteration never runs.
local ll = require("luaload")

function default()
  print("before abort")
  ll.abort("enough")
  print("never printed")
end
