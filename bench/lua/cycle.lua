-- GET a path built from a list of ids, a different id on every request: args = <ids file> <path template with {id}>.
local ids = {}
local next_index = 0
local template = ""

init = function(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  template = args[2]
end

request = function()
  next_index = next_index + 1
  local id = ids[((next_index - 1) % #ids) + 1]
  return wrk.format(nil, (template:gsub("{id}", id)))
end
