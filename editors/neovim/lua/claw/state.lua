-- Shared, in-memory plugin state (per Neovim instance).
local M = {}

---@class claw.ClientState
---@field session string?
---@field turn integer?
---@field tier string?
---@field busy boolean
---@field folder string?
---@field ask_request integer?  id of the claw.ask request in flight
---@field context_tokens integer?  tokens of the last request (claw/status contextTokens)
---@field context_window integer?  the model's window (claw/status contextWindow)
---@field status_requested boolean?  claw.status was asked for once (handlers.refresh_status)

---@type table<integer, claw.ClientState>
M.by_client = {}

---@class claw.Proposal
---@field proposal string
---@field uri string
---@field diff string
---@field range table?
---@field client_id integer

--- Pending proposals by id, in arrival order in `M.proposal_order`.
---@type table<string, claw.Proposal>
M.proposals = {}
---@type string[]
M.proposal_order = {}

--- The file buffer the last question was about (commands typed in the conversation use it).
---@type integer?
M.last_source_buf = nil

--- 'ask' or 'plan' (:Claw mode): sent as claw.ask's `mode`.
---@type 'ask'|'plan'
M.mode = 'ask'

--- Set while the user's own accept is in flight: its edit needs no second confirmation.
M.accepting = 0

---@param client_id integer
---@return claw.ClientState
function M.client(client_id)
  local existing = M.by_client[client_id]
  if not existing then
    existing = { busy = false }
    M.by_client[client_id] = existing
  end
  return existing
end

---@param item claw.Proposal
function M.add_proposal(item)
  if not M.proposals[item.proposal] then
    table.insert(M.proposal_order, item.proposal)
  end
  M.proposals[item.proposal] = item
end

---@param id string
function M.remove_proposal(id)
  M.proposals[id] = nil
  for index, value in ipairs(M.proposal_order) do
    if value == id then
      table.remove(M.proposal_order, index)
      break
    end
  end
end

---@return claw.Proposal[]
function M.pending_proposals()
  local out = {}
  for _, id in ipairs(M.proposal_order) do
    out[#out + 1] = M.proposals[id]
  end
  return out
end

return M
