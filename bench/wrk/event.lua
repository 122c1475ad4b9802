-- POST one PortSIP call_cdr event per request, each with a session_id of its own: a copy would be
-- a duplicate (answered 200, not stored), which costs less and is not what is measured.
-- args: the Authorization header; a file holding the body, "{n}" where the number goes; a tag
-- unique to this run (Redis remembers the events of the rows before). One thread (-t1): one
-- counter.
local template, tag, n = nil, nil, 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = args[1]
  local file = assert(io.open(args[2], "r"))
  template = file:read("*a")
  file:close()
  tag = args[3]
end

function request()
  n = n + 1
  local body = template:gsub("{n}", tag .. "-" .. n)
  return wrk.format(nil, nil, nil, body)
end
