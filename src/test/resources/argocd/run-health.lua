-- Test driver: runs an Argo CD health check the way Argo CD does, and prints "status<TAB>message".
--
--   lua5.1 run-health.lua <health.lua>  < object.lua
--
-- stdin is a Lua chunk that returns the object (a table constructor, as ArgoHealthCheckTest writes it).
-- The check runs with what Argo CD gives a custom check (gopher-lua without useOpenLibs): the base
-- library, table, a safe os (time, date, clock, difftime), the global obj, and no string library, so a
-- check that calls string.* or ("x"):method() fails here as it would in Argo CD.
-- Exit 0: printed; exit 2: the check raised an error or returned something Argo CD would refuse.

local VALID = { Healthy = true, Progressing = true, Degraded = true, Suspended = true, Missing = true, Unknown = true }

local function fail(message)
  io.stderr:write(message, "\n")
  os.exit(2)
end

local scriptPath = arg[1]
if scriptPath == nil then
  fail("usage: lua5.1 run-health.lua <health.lua> < object.lua")
end

local objectChunk, objectError = loadstring(io.read("*a"), "=object")
if objectChunk == nil then
  fail("object literal does not parse: " .. tostring(objectError))
end
setfenv(objectChunk, {})
local object = objectChunk()

local check, checkError = loadfile(scriptPath)
if check == nil then
  fail("health check does not parse: " .. tostring(checkError))
end

local env = {
  assert = assert, error = error, getmetatable = getmetatable, ipairs = ipairs, next = next, pairs = pairs,
  pcall = pcall, print = print, rawequal = rawequal, rawget = rawget, rawset = rawset, select = select,
  setmetatable = setmetatable, tonumber = tonumber, tostring = tostring, type = type, unpack = unpack,
  xpcall = xpcall, _VERSION = _VERSION,
  table = { concat = table.concat, insert = table.insert, maxn = table.maxn, remove = table.remove, sort = table.sort },
  os = { time = os.time, date = os.date, clock = os.clock, difftime = os.difftime },
  obj = object,
}
env._G = env
setfenv(check, env)

-- Strings have no methods without the string library.
local stringMeta = getmetatable("")
local stringIndex = stringMeta.__index
stringMeta.__index = nil
local ok, result = pcall(check)
stringMeta.__index = stringIndex

if not ok then
  fail("health check raised an error: " .. tostring(result))
end
if type(result) ~= "table" then
  fail("health check returned " .. type(result) .. ", Argo CD wants a table")
end
if type(result.status) ~= "string" or not VALID[result.status] then
  fail("health check returned status " .. tostring(result.status) .. ", not one Argo CD accepts")
end
if result.message ~= nil and type(result.message) ~= "string" then
  fail("health check returned a " .. type(result.message) .. " message, want a string")
end
io.write(result.status, "\t", result.message or "")
