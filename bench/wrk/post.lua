-- POST action URL: the same fields as a JSON object (portsip.md §1), Authorization from args.
local body = nil
local headers = {}

function init(args)
  body = args[1]
  headers["Content-Type"] = "application/json"
  if args[2] and args[2] ~= "" then headers["Authorization"] = args[2] end
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  if args[2] and args[2] ~= "" then wrk.headers["Authorization"] = args[2] end
end
