-- wrk script for bench/ingest.py: POST the signed webhooks listed in a file, one per line as
-- "<X-Hub-Signature-256> <body>", round robin (each wrk thread starts at a different line).
local requests = {}
local index = 0

function init(args)
  for line in io.lines(args[1]) do
    local signature, body = line:match("^(%S+) (.*)$")
    requests[#requests + 1] = wrk.format("POST", args[2], {
      ["Content-Type"] = "application/json",
      ["X-Hub-Signature-256"] = signature,
    }, body)
  end
  index = math.random(#requests)
end

function request()
  index = index % #requests + 1
  return requests[index]
end
