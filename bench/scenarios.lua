-- Requests for the scenarios of bench/run.py, for wrk 4.
--
-- The first argument after "--" picks what each request is:
--
--   get              GET the URL itself
--   item IDS_FILE    GET URL/<id>, the id drawn at random from IDS_FILE
--   filter NAMES_FILE
--                    GET URL?filter=userName eq "<name>", the name drawn at
--                    random from NAMES_FILE
--   page LAST COUNT  GET URL?startIndex=<random 1..LAST>&count=COUNT
--   post             POST a new User to the URL
--
-- bench/wrk.py appends a label to every argument list: the phase, "warmup"
-- or "measure", and the round, as in "measure-2". post builds each userName
-- from the label, the thread and a counter, so that no two requests of a
-- run ask for the same name; the other scenarios ignore it.
--
-- Every scenario builds its requests in this script, even the fixed GET, so
-- that the load generator spends about the same effort on each of them.
-- Every response is checked: done() prints, as its last line, one JSON
-- object with the count of responses outside 2xx for run.py to fail on.
-- A bearer token comes from BENCH_TOKEN in the environment, which keeps it
-- out of the command line that run.py prints and records.

local threads = {}
local generate

-- Read by done() through thread:get, so these are globals of each thread.
failures = 0
first_failure = 0
thread_number = 0

local USER = [[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],]]
   .. [["userName":"%s@example.com","externalId":"%s",]]
   .. [["name":{"givenName":"Bench","familyName":"%s"},]]
   .. [["displayName":"Bench %s",]]
   .. [["emails":[{"value":"%s@example.com","type":"work","primary":true}],]]
   .. [["active":true}]]

local function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then
         lines[#lines + 1] = line
      end
   end
   assert(#lines > 0, "nothing in " .. path)
   return lines
end

-- Percent-encodes every byte outside RFC 3986's unreserved characters, so
-- the quotes, spaces and "@" of a filter reach the server intact.
local function url_encode(text)
   return (text:gsub("[^%w%-%._~]", function(character)
      return string.format("%%%02X", character:byte())
   end))
end

-- Every request prepared up front, one drawn at random per call:
-- formatting one of ten thousand requests per call would make the client,
-- not the server, the thing being measured.
local function draw_from(paths)
   local prepared = {}
   for i, path in ipairs(paths) do
      prepared[i] = wrk.format("GET", path)
   end
   return function()
      return prepared[math.random(#prepared)]
   end
end

local builders = {}

function builders.get()
   local prepared = wrk.format("GET", wrk.path)
   return function()
      return prepared
   end
end

function builders.item(args)
   local paths = {}
   for i, id in ipairs(read_lines(args[2])) do
      paths[i] = wrk.path .. "/" .. id
   end
   return draw_from(paths)
end

function builders.filter(args)
   local paths = {}
   for i, name in ipairs(read_lines(args[2])) do
      local filter = string.format('userName eq "%s"', name)
      paths[i] = wrk.path .. "?filter=" .. url_encode(filter)
   end
   return draw_from(paths)
end

function builders.page(args)
   local last = assert(tonumber(args[2]), "page needs the last startIndex")
   local count = assert(tonumber(args[3]), "page needs a count")
   local template = wrk.path .. "?startIndex=%d&count=%d"
   return function()
      return wrk.format("GET", string.format(template, math.random(last), count))
   end
end

function builders.post(args)
   local label = assert(args[2], "post needs the label of the run")
   local prefix = string.format("%s-%d-", label, thread_number)
   local sent = 0
   wrk.headers["Content-Type"] = "application/json"
   return function()
      sent = sent + 1
      local name = prefix .. sent
      local body = string.format(USER, name, name, name, name, name)
      return wrk.format("POST", wrk.path, nil, body)
   end
end

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

function init(args)
   local token = os.getenv("BENCH_TOKEN")
   if token and token ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. token
   end
   local build = assert(builders[args[1]], "unknown scenario: " .. tostring(args[1]))
   -- Seeded by thread so that a run draws the same ids and pages every time.
   math.randomseed(thread_number)
   generate = build(args)
end

function request()
   return generate()
end

function response(status)
   if status < 200 or status > 299 then
      failures = failures + 1
      if first_failure == 0 then
         first_failure = status
      end
   end
end

function done(summary, latency)
   local failed, first = 0, 0
   for _, thread in ipairs(threads) do
      failed = failed + thread:get("failures")
      if first == 0 then
         first = thread:get("first_failure")
      end
   end
   local errors = summary.errors
   local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"p50_us":%.0f,"p99_us":%.0f,'
         .. '"non_2xx":%d,"first_non_2xx":%d,"socket_errors":%d}\n',
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99),
      failed, first, socket_errors))
end
