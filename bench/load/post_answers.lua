-- POST /api/v1/walls/<slug>/answers with a unique client_submission_id per request.
-- Arguments (after --): run prefix, prompt id, directory for the logs of confirmed ids.
-- Each thread logs the id of every answer the server confirmed (201/200), so that the
-- runner can compare them with the rows in the database afterwards.

local script_dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(script_dir .. "report.lua")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local texts = {
  "Flere voksne i børnehaven, så der er tid til at lytte til det enkelte barn",
  "Legepladsen ved havnen trænger til skygge og bænke til bedsteforældrene",
  "Bedre cykelstier til skolen, så vi tør lade de store cykle selv om morgenen",
  "Et sted hvor unge kan være om aftenen uden at det koster noget 🎮",
  "Længere åbningstider på biblioteket i weekenden, tak!",
}

function init(args)
  prefix = args[1]
  prompt = tonumber(args[2])
  local log_dir = args[3]
  counter = 0
  log = io.open(log_dir .. "/confirmed-" .. tid .. ".txt", "w")
  log:setvbuf("line")
  refused = io.open(log_dir .. "/refused-" .. tid .. ".txt", "w")
  refused:setvbuf("line")
end

function request()
  counter = counter + 1
  local id = prefix .. "-" .. tid .. "-" .. counter
  local text = texts[(counter % #texts) + 1] .. " (" .. id .. ")"
  local body = '{"prompt_id":' .. prompt .. ',"text":"' .. text ..
    '","client_submission_id":"' .. id .. '"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 201 or status == 200 then
    local id = body:match('"client_submission_id":"([^"]+)"')
    if id then log:write(id, "\n") end
  else
    -- The status and the error code of every refused answer, to tell 503s from 429s.
    local code = body:match('"code":"([^"]+)"') or "-"
    refused:write(status, " ", code, "\n")
  end
end
