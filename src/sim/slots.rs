//! Entities set aside, before any account is spawned, to hold the world's resources.
//!
//! In bevy_ecs 0.20 a resource is a sparse-set component on an entity of its own, and a sparse
//! set's index is as long as the largest entity index it has held. A resource inserted after a
//! million accounts therefore costs 4 bytes per account: 16 MB at 4M accounts, for each of the
//! thirty-odd resources and message queues. Held by entities reserved first, they cost nothing
//! per account.
//!
//! The slots are filled in the order the resources were inserted before, so the world creates
//! its archetypes, and numbers them, in the same order. That order matters: a query visits the
//! archetypes it matches in an order set by their ids (a hash map's, keyed by id), and the agents
//! act in that order.

use bevy_ecs::message::{Message, MessageRegistry, Messages};
use bevy_ecs::prelude::*;

/// Empty entities, each to hold one resource.
pub(crate) struct ResourceSlots {
    free: std::vec::IntoIter<Entity>,
}

impl ResourceSlots {
    /// More than a simulation inserts (30 with the heatmap samples); one inserted past the last
    /// slot is still inserted, on an entity of its own (and caught by debug builds).
    const COUNT: usize = 40;

    /// Spawns the empty entities (into the empty archetype, which every world has: no archetype
    /// is created).
    pub(crate) fn reserve(world: &mut World) -> ResourceSlots {
        let slots: Vec<Entity> = (0..Self::COUNT).map(|_| world.spawn_empty().id()).collect();
        ResourceSlots { free: slots.into_iter() }
    }

    /// Inserts `value` as a resource: on the next free slot, or in place of the one there is.
    pub(crate) fn insert<R: Resource>(&mut self, world: &mut World, value: R) {
        if world.contains_resource::<R>() {
            world.insert_resource(value);
            return;
        }
        match self.free.next() {
            Some(slot) => {
                world.entity_mut(slot).insert(value);
            }
            None => {
                debug_assert!(false, "more resources than slots: raise ResourceSlots::COUNT");
                world.insert_resource(value)
            }
        }
    }

    /// [`MessageRegistry::register_message`], its queue (and the registry, the first time) held
    /// by slots.
    pub(crate) fn register_message<M: Message>(&mut self, world: &mut World) {
        if !world.contains_resource::<Messages<M>>() {
            self.insert(world, Messages::<M>::default());
        }
        if !world.contains_resource::<MessageRegistry>() {
            self.insert(world, MessageRegistry::default());
        }
        MessageRegistry::register_message::<M>(world);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::any::TypeId;

    #[derive(Resource, Debug, PartialEq)]
    struct Answer(u32);

    #[derive(Message)]
    struct Ping;

    #[derive(Component)]
    struct Account;

    #[test]
    fn resources_inserted_after_many_entities_live_on_the_reserved_ones() {
        let mut world = World::new();
        let built_in = world.resource_entities().iter().count();
        let mut slots = ResourceSlots::reserve(&mut world);
        let accounts: Vec<Entity> = world.spawn_batch((0..1000).map(|_| Account)).collect();
        slots.insert(&mut world, Answer(41));
        slots.insert(&mut world, Answer(42));
        slots.register_message::<Ping>(&mut world);
        assert_eq!(world.resource::<Answer>(), &Answer(42));
        world.resource_mut::<Messages<Ping>>().write(Ping);
        assert_eq!(world.resource::<Messages<Ping>>().len(), 1);
        let lowest_account = accounts.iter().map(|e| e.index()).min().unwrap();
        let resources: Vec<Entity> = world.resource_entities().iter().map(|(_, e)| e).collect();
        // The answer, the ping queue and the registry (and bevy's own), each below every account.
        assert_eq!(resources.len(), built_in + 3, "{resources:?}");
        assert!(resources.iter().all(|e| e.index() < lowest_account), "{resources:?}");
    }

    #[derive(Resource)]
    struct Later;

    #[derive(Message)]
    struct Pong;

    /// The components of each archetype, in the order the world created them, and the components
    /// in the order they were registered (by type: bevy names them only with its debug feature).
    fn layout(world: &World) -> (Vec<Vec<Option<TypeId>>>, Vec<Option<TypeId>>) {
        let ty = |id| world.components().get_info(id).and_then(|c| c.type_id());
        let archetypes = world.archetypes().iter().map(|a| a.components().iter().map(|&c| ty(c)).collect());
        let components = world.components().iter_registered().map(|(_, c)| c.type_id()).collect();
        (archetypes.collect(), components)
    }

    #[test]
    fn slots_build_the_world_bevy_would_build() {
        // The same inserts, interleaved with spawns, into slots and as bevy does them.
        let mut plain = World::new();
        plain.spawn_batch((0..10).map(|_| Account));
        plain.insert_resource(Answer(1));
        MessageRegistry::register_message::<Ping>(&mut plain);
        MessageRegistry::register_message::<Pong>(&mut plain);
        plain.spawn((Account, Answer(2)));
        plain.insert_resource(Later);

        let mut slotted = World::new();
        let mut slots = ResourceSlots::reserve(&mut slotted);
        slotted.spawn_batch((0..10).map(|_| Account));
        slots.insert(&mut slotted, Answer(1));
        slots.register_message::<Ping>(&mut slotted);
        slots.register_message::<Pong>(&mut slotted);
        slotted.spawn((Account, Answer(2)));
        slots.insert(&mut slotted, Later);

        assert_eq!(layout(&slotted), layout(&plain));
        // Both queues are updated each frame (a message outlives two updates, not forever).
        for world in [&mut plain, &mut slotted] {
            world.resource_mut::<Messages<Ping>>().write(Ping);
            world.resource_mut::<Messages<Pong>>().write(Pong);
            for _ in 0..2 {
                world.resource_scope(|world, mut registry: Mut<MessageRegistry>| {
                    registry.run_updates(world, bevy_ecs::change_detection::Tick::new(0));
                });
            }
            assert!(world.resource::<Messages<Ping>>().is_empty());
            assert!(world.resource::<Messages<Pong>>().is_empty());
        }
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "more resources than slots"))]
    fn a_resource_past_the_last_slot_is_still_inserted() {
        let mut world = World::new();
        let mut slots = ResourceSlots { free: Vec::new().into_iter() };
        slots.insert(&mut world, Answer(7));
        assert_eq!(world.resource::<Answer>(), &Answer(7));
    }
}
