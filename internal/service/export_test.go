package service

import "github.com/gatehouse/gatehouse/internal/engine"

// Tests of the service reach its engine and follower; transports cannot
// (they ask through the use cases).

// Follower returns the service's engine follower.
func (s *Service) Follower() *Follower { return s.f }

// Engine returns the current engine.
func (s *Service) Engine() *engine.Engine { return s.f.Engine() }
